/// Bulk data as an asynchronous sequence of byte chunks. Consumers pull, so a slow reader slows
/// the producer down (back-pressure) and no image is ever held in memory whole.
public struct ByteStream: AsyncSequence, Sendable {
    public typealias Element = [UInt8]

    public struct AsyncIterator: AsyncIteratorProtocol {
        let nextChunk: () async throws -> [UInt8]?
        public mutating func next() async throws -> [UInt8]? { try await nextChunk() }
    }

    private let makeIterator: @Sendable () -> AsyncIterator

    /// Wraps any sendable sequence of byte chunks.
    public init<Base: AsyncSequence & Sendable>(_ base: Base) where Base.Element == [UInt8] {
        makeIterator = {
            let box = IteratorBox(base.makeAsyncIterator())
            return AsyncIterator { try await box.next() }
        }
    }

    /// A stream whose chunks come from `next` until it returns nil.
    public init(next: @escaping @Sendable () async throws -> [UInt8]?) {
        makeIterator = { AsyncIterator(nextChunk: next) }
    }

    /// A stream over bytes already in memory, cut into chunks of `chunkSize`.
    public init(bytes: [UInt8], chunkSize: Int = 64 * 1024) {
        let chunks = stride(from: 0, to: bytes.count, by: chunkSize).map {
            Array(bytes[$0..<Swift.min($0 + chunkSize, bytes.count)])
        }
        self.init(ChunkSequence(chunks: chunks))
    }

    public func makeAsyncIterator() -> AsyncIterator { makeIterator() }

    /// The same bytes; after each chunk `passed` is told how many bytes have gone by in all, and
    /// may throw to end the stream (a size limit) or wait (a throttle).
    public func observed(_ passed: @escaping @Sendable (_ total: Int64) async throws -> Void) -> ByteStream {
        observed { _, total in try await passed(total) }
    }

    /// The same bytes; each chunk, and how many bytes have gone by in all with it, is shown to
    /// `passed` on its way (to hash what is sent, say) before it goes on.
    public func observed(_ passed: @escaping @Sendable (_ chunk: [UInt8], _ total: Int64) async throws -> Void) -> ByteStream {
        let counted = LockedBox<Int64>(0)
        let box = IteratorBox(makeAsyncIterator())
        return ByteStream {
            guard let chunk = try await box.next() else { return nil }
            try await passed(chunk, counted.withLock { total -> Int64 in total += Int64(chunk.count); return total })
            return chunk
        }
    }

    /// Reads the whole stream into memory, failing past `limit` bytes. For small payloads and tests.
    public func collect(upTo limit: Int) async throws -> [UInt8] {
        var result: [UInt8] = []
        for try await chunk in self {
            guard result.count + chunk.count <= limit else {
                throw ByteLimitExceeded(limit: limit)
            }
            result += chunk
        }
        return result
    }
}

private struct ChunkSequence: AsyncSequence, Sendable {
    let chunks: [[UInt8]]
    struct AsyncIterator: AsyncIteratorProtocol {
        var index = 0
        let chunks: [[UInt8]]
        mutating func next() async -> [UInt8]? {
            guard index < chunks.count else { return nil }
            defer { index += 1 }
            return chunks[index]
        }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: chunks) }
}

/// Gives a mutable iterator a reference identity so a closure can advance it.
package final class IteratorBox<Base: AsyncIteratorProtocol>: @unchecked Sendable where Base.Element == [UInt8] {
    var base: Base
    package init(_ base: Base) { self.base = base }
    package func next() async throws -> [UInt8]? { try await base.next() }
}
