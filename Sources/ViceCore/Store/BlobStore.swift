package import Foundation

/// A stored blob: its content digest (`sha256:<hex>`) and size in bytes.
package struct BlobRef: Sendable, Hashable, Codable {
    package var digest: String
    package var size: Int64

    package init(digest: String, size: Int64) {
        self.digest = digest
        self.size = size
    }
}

/// The name of an ingest inside its store. It is what a store job's payload carries — never a
/// path — and the store alone knows where the bytes are.
package struct IngestID: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    package let rawValue: String

    /// Letters, digits and dashes only: an id that arrives from a payload cannot name a path.
    package init?(rawValue: String) {
        guard !rawValue.isEmpty, rawValue.count <= 128,
              rawValue.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") })
        else { return nil }
        self.rawValue = rawValue
    }

    /// A fresh, random id.
    package static func make() -> IngestID { IngestID(rawValue: IDGenerator.make(length: 24))! }

    package var description: String { rawValue }
}

/// Image bytes, addressed by content. Bytes enter by one door, an ingest: begin → write →
/// seal → commit(expecting:) or cancel. Nothing is visible under a digest before its commit,
/// and a commit holds the blob (a `BlobLease`) until the caller has recorded it, so a delete
/// racing the recording cannot free it.
package protocol BlobStore: Sendable {
    /// Starts writing new bytes.
    func beginIngest() async throws -> any BlobIngest
    /// A sealed ingest (an upload waiting for its store job), also one sealed by another process
    /// or before a restart; nil when it was committed, cancelled or never sealed.
    func sealedIngest(_ id: IngestID) async throws -> (any BlobIngest)?
    /// Every ingest begun and neither committed nor cancelled (start-up cancels those no job
    /// refers to: uploads cut off by a crash).
    func pendingIngests() async throws -> [IngestID]
    /// Removes whatever an ingest left, sealed or not.
    func discardIngest(_ id: IngestID) async

    /// A lease on a blob the store holds already (found by a job after a restart); nil when it
    /// is not there.
    func retain(_ digest: String) async throws -> BlobLease?
    /// The bytes of a blob; throws `notFound` when it is not there.
    func get(_ digest: String) async throws -> ByteStream
    /// The bytes `range` (inclusive offsets, within the blob) of a blob.
    func get(_ digest: String, range: ClosedRange<Int64>) async throws -> ByteStream
    func contains(_ digest: String) async throws -> Bool
    /// Deletes a blob when `isUnused` (a read of the metadata) says no record holds it, unless
    /// an ingest commits the same content before the delete is done: the commit's lease wins.
    /// Returns whether the blob is gone. Stores shared by several nodes must keep the leases
    /// where every node sees them.
    @discardableResult
    func delete(_ digest: String, ifUnused isUnused: @escaping @Sendable () async throws -> Bool) async throws -> Bool
    /// Every digest in the store (start-up frees those no record holds).
    func digests() async throws -> [String]
    /// The blob as a local file, when the store keeps blobs on this machine (for zero-copy serving).
    func localFile(of digest: String) throws -> URL?
    /// How many blobs the store holds and their bytes (for the metrics; it may walk the store).
    func usage() async throws -> BlobUsage
}

/// Bytes on their way into a `BlobStore`: hashed and counted by the store as they are written.
package protocol BlobIngest: AnyObject, Sendable {
    var id: IngestID { get }
    /// Appends bytes. May wait while the store catches up (back-pressure).
    func write(_ chunk: some ByteChunk) async throws
    /// Makes everything written durable and says what it is. Sealing twice answers the same.
    func seal() async throws -> BlobRef
    /// Random access to the sealed bytes: they are inspected before they are committed.
    func reader() async throws -> any ByteReader
    /// Puts the sealed bytes under their digest (kept once when the store holds them already).
    /// Throws, committing nothing, when `expected` is given and differs. The lease keeps the
    /// blob from deletion until it is released: release it after the transaction that records it.
    func commit(expecting expected: String?) async throws -> BlobLease
    /// Drops the bytes. Harmless after a commit or a cancel.
    func cancel() async
}

/// Bytes in memory that an ingest can take without copying them first: `[UInt8]`, or the HTTP
/// server's buffers.
package protocol ByteChunk: Sendable {
    var byteCount: Int { get }
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: ByteChunk where Element == UInt8 {
    package var byteCount: Int { count }
}

/// A committed blob that may not be deleted yet. Released explicitly once the blob is recorded
/// (or known unwanted), and at the latest when the lease is dropped.
package final class BlobLease: Sendable {
    package let blob: BlobRef
    private let onRelease: LockedBox<(@Sendable () -> Void)?>

    package init(blob: BlobRef, onRelease: @escaping @Sendable () -> Void) {
        self.blob = blob
        self.onRelease = LockedBox(onRelease)
    }

    package func release() {
        let action = onRelease.withLock { action -> (@Sendable () -> Void)? in
            defer { action = nil }
            return action
        }
        action?()
    }

    deinit { release() }
}

extension BlobStore {
    /// Deletes a blob unless a lease holds it.
    @discardableResult
    package func delete(_ digest: String) async throws -> Bool {
        try await delete(digest, ifUnused: { true })
    }

    /// Streams `content` into the store through an ingest and commits it. For bytes that need no
    /// inspection between sealing and committing, and for tests.
    package func put(_ content: ByteStream) async throws -> BlobRef {
        let lease = try await ingest(content).commit(expecting: nil)
        lease.release()
        return lease.blob
    }

    /// Streams `content` into a new ingest and seals it; cancels it when anything fails.
    package func ingest(_ content: ByteStream) async throws -> any BlobIngest {
        let ingest = try await beginIngest()
        do {
            for try await chunk in content {
                try Task.checkCancellation()
                try await ingest.write(chunk)
            }
            _ = try await ingest.seal()
            return ingest
        } catch {
            await ingest.cancel()
            throw error
        }
    }
}

/// What a blob store holds.
package struct BlobUsage: Sendable, Hashable {
    package var blobs: Int
    package var bytes: Int64
    package init(blobs: Int, bytes: Int64) {
        self.blobs = blobs
        self.bytes = bytes
    }
}
