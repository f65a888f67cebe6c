import Crypto
import ViceCore

/// Size, MD5, optionally SHA-256, and one "multihash" (Glance's `os_hash_algo`) of bytes as they
/// stream past. Chunks are gathered into 1 MiB blocks; each hash function digests a block in a
/// task of its own, in parallel with the others and with whoever consumes the stream, so that
/// three digests cost about the time of the slowest one, not of all three.
final class StreamDigests: @unchecked Sendable {
    /// The digests of a finished stream, lower-case hex.
    struct Result: Sendable, Equatable {
        var size: Int64
        var md5: String
        var sha256: String?
        var multihashAlgorithm: String?
        var multihash: String?
    }

    private static let blockSize = 1 << 20

    // Touched only by the one task that reads the stream (`feed`, `finalize`); each hasher by at
    // most one block task at a time, since a block waits for the previous one.
    private var size: Int64 = 0
    private var block: [[UInt8]] = []
    private var blockBytes = 0
    private var hashing: Task<Void, Never>?
    private let md5 = Hasher(.md5(Insecure.MD5()))
    private let sha256: Hasher?
    private let multihash: Hasher?
    private let multihashAlgorithm: String?
    private let result = LockedBox<Result?>(nil)

    /// `multihashAlgorithm`: `sha512`, `sha384` or `sha256`; anything else is not computed.
    init(multihashAlgorithm: String?, sha256: Bool = false) {
        let algorithm = multihashAlgorithm?.lowercased()
        multihash = algorithm.flatMap(AnyHashFunction.init(name:)).map(Hasher.init)
        self.multihashAlgorithm = multihash == nil ? nil : algorithm
        self.sha256 = sha256 ? Hasher(.sha256(SHA256())) : nil
    }

    private var hashers: [Hasher] { [md5] + [sha256, multihash].compactMap { $0 } }

    /// `content`, unchanged, with every chunk counted and hashed; `finish` sees the result at the
    /// end and may throw to fail the stream (and so whatever consumes it).
    func wrap(_ content: ByteStream, finish: @escaping @Sendable (Result) throws -> Void = { _ in }) -> ByteStream {
        let box = IteratorBox(content.makeAsyncIterator())
        return ByteStream { [self] in
            guard let chunk = try await box.next() else {
                let result = await finalize()
                try finish(result)
                return nil
            }
            await feed(chunk)
            return chunk
        }
    }

    /// The digests, once the stream has ended.
    var finished: Result? { result.withLock { $0 } }

    private func feed(_ chunk: [UInt8]) async {
        size += Int64(chunk.count)
        block.append(chunk)
        blockBytes += chunk.count
        if blockBytes >= Self.blockSize { await dispatchBlock() }
    }

    /// Starts hashing the gathered block once the previous block is done.
    private func dispatchBlock() async {
        guard !block.isEmpty else { return }
        let chunks = block
        block = []
        blockBytes = 0
        await hashing?.value
        let hashers = self.hashers
        hashing = Task {
            await withTaskGroup(of: Void.self) { group in
                for hasher in hashers {
                    group.addTask { hasher.update(chunks) }
                }
            }
        }
    }

    private func finalize() async -> Result {
        if let done = result.withLock({ $0 }) { return done }
        await dispatchBlock()
        await hashing?.value
        let done = Result(size: size, md5: md5.finalize(), sha256: sha256?.finalize(),
                          multihashAlgorithm: multihashAlgorithm, multihash: multihash?.finalize())
        result.withLock { $0 = done }
        return done
    }
}

/// One running hash function, updated by one block task at a time.
private final class Hasher: @unchecked Sendable {
    private var function: AnyHashFunction

    init(_ function: AnyHashFunction) {
        self.function = function
    }

    func update(_ chunks: [[UInt8]]) {
        for chunk in chunks {
            chunk.withUnsafeBytes { function.update($0) }
        }
    }

    func finalize() -> String { function.finalize() }
}

/// The SHA-2 functions Glance may name in `os_hash_algo`.
private enum AnyHashFunction {
    case md5(Insecure.MD5), sha256(SHA256), sha384(SHA384), sha512(SHA512)

    init?(name: String) {
        switch name {
        case "sha256": self = .sha256(SHA256())
        case "sha384": self = .sha384(SHA384())
        case "sha512": self = .sha512(SHA512())
        default: return nil
        }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .md5(var hash): hash.update(bufferPointer: bytes); self = .md5(hash)
        case .sha256(var hash): hash.update(bufferPointer: bytes); self = .sha256(hash)
        case .sha384(var hash): hash.update(bufferPointer: bytes); self = .sha384(hash)
        case .sha512(var hash): hash.update(bufferPointer: bytes); self = .sha512(hash)
        }
    }

    func finalize() -> String {
        switch self {
        case .md5(let hash): hash.finalize().hexString
        case .sha256(let hash): hash.finalize().hexString
        case .sha384(let hash): hash.finalize().hexString
        case .sha512(let hash): hash.finalize().hexString
        }
    }
}

/// Lets the stream's closure advance an iterator it owns (read by one consumer at a time).
private final class IteratorBox: @unchecked Sendable {
    var iterator: ByteStream.AsyncIterator
    init(_ iterator: ByteStream.AsyncIterator) { self.iterator = iterator }
    func next() async throws -> [UInt8]? { try await iterator.next() }
}
