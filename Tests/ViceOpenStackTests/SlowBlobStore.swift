import Foundation
import ViceCore

/// The registry's blob store, with reads that crawl past the first `after` bytes: a deploy that
/// is still sending, slowed at its source, so a cancel cuts the connection to Glance at once (a
/// proxy that throttled would keep feeding the single-worker test Glance what it had buffered).
struct SlowBlobStore: BlobStore {
    let base: any BlobStore
    let after: Int
    let bytesPerSecond: Int

    func beginIngest() async throws -> any BlobIngest { try await base.beginIngest() }
    func sealedIngest(_ id: IngestID) async throws -> (any BlobIngest)? { try await base.sealedIngest(id) }
    func pendingIngests() async throws -> [IngestID] { try await base.pendingIngests() }
    func discardIngest(_ id: IngestID) async { await base.discardIngest(id) }
    func retain(_ digest: String) async throws -> BlobLease? { try await base.retain(digest) }
    func contains(_ digest: String) async throws -> Bool { try await base.contains(digest) }
    func delete(_ digest: String, ifUnused isUnused: @escaping @Sendable () async throws -> Bool) async throws -> Bool {
        try await base.delete(digest, ifUnused: isUnused)
    }
    func digests() async throws -> [String] { try await base.digests() }
    /// No local file: adapters read the (slow) stream.
    func localFile(of digest: String) throws -> URL? { nil }
    func usage() async throws -> BlobUsage { try await base.usage() }

    func get(_ digest: String) async throws -> ByteStream { slowed(try await base.get(digest)) }
    func get(_ digest: String, range: ClosedRange<Int64>) async throws -> ByteStream {
        slowed(try await base.get(digest, range: range))
    }

    private func slowed(_ stream: ByteStream) -> ByteStream {
        let (after, rate) = (Int64(after), Int64(bytesPerSecond))
        let previous = LockedBox<Int64>(0)
        return stream.observed { total in
            let chunk = previous.withLock { last -> Int64 in defer { last = total }; return total - last }
            if total > after { try await Task.sleep(for: .milliseconds(chunk * 1000 / rate)) }
        }
    }
}
