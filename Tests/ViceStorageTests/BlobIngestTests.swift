import Crypto
import Foundation
import Testing
import ViceCore
import ViceStorage
import ViceTestSupport

/// The one door for bytes: begin → write → seal → commit(expecting:) / cancel, and the leases
/// that keep a committed blob from a racing delete.
@Suite struct BlobIngestTests {
    let directory: TemporaryDirectory
    let store: FileBlobStore

    init() throws {
        directory = try TemporaryDirectory()
        store = try FileBlobStore(root: directory.url)
    }

    static func digest(_ bytes: [UInt8]) -> String {
        "sha256:" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    @Test func anIngestHashesWhatItIsGivenAndCommitsItUnderItsDigest() async throws {
        let bytes = InMemoryBytes.make(count: 3 << 20)
        let ingest = try await store.beginIngest()
        for start in stride(from: 0, to: bytes.count, by: 100_000) {
            try await ingest.write(Array(bytes[start..<min(start + 100_000, bytes.count)]))
        }
        let sealed = try await ingest.seal()
        #expect(sealed == BlobRef(digest: Self.digest(bytes), size: Int64(bytes.count)))
        #expect(try await ingest.seal() == sealed, "sealing twice answers the same")
        #expect(try await !store.contains(sealed.digest), "nothing is visible before the commit")
        let reader = try await ingest.reader()
        #expect(try reader.read(at: 0, count: 4) == Array(bytes[0..<4]))
        let lease = try await ingest.commit(expecting: sealed.digest)
        lease.release()
        #expect(try await store.get(sealed.digest).collect(upTo: 4 << 20) == bytes)
        #expect(try await store.pendingIngests().isEmpty)
    }

    @Test func aCommitExpectingOtherBytesKeepsNothing() async throws {
        let ingest = try await store.ingest(ByteStream(bytes: [1, 2, 3]))
        await #expect(throws: ViceError.self) { try await ingest.commit(expecting: Self.digest([3, 2, 1])) }
        #expect(try await !store.contains(Self.digest([1, 2, 3])))
        #expect(try await store.pendingIngests().isEmpty)
    }

    @Test func aCancelledIngestLeavesNothing() async throws {
        let ingest = try await store.beginIngest()
        try await ingest.write([UInt8](repeating: 7, count: 1000))
        #expect(try await store.pendingIngests() == [ingest.id])
        await ingest.cancel()
        #expect(try await store.pendingIngests().isEmpty)
        await #expect(throws: ViceError.self) { try await ingest.seal() }
    }

    @Test func aSealedIngestIsFoundAgainAfterARestartAndAnUnsealedOneIsNot() async throws {
        let sealed = try await store.ingest(ByteStream(bytes: [4, 5, 6]))
        let open = try await store.beginIngest()
        try await open.write([9])
        let restarted = try FileBlobStore(root: directory.url)
        #expect(try await restarted.sealedIngest(open.id) == nil)
        let found = try #require(try await restarted.sealedIngest(sealed.id))
        let lease = try await found.commit(expecting: Self.digest([4, 5, 6]))
        lease.release()
        #expect(try await restarted.contains(Self.digest([4, 5, 6])))
        #expect(try await restarted.pendingIngests() == [open.id])
    }

    @Test func ingestIDsFromPayloadsCannotNamePaths() {
        #expect(IngestID(rawValue: "../../etc/passwd") == nil)
        #expect(IngestID(rawValue: "a/b") == nil)
        #expect(IngestID(rawValue: "") == nil)
        #expect(IngestID(rawValue: "abc-DEF-123") != nil)
    }

    @Test func aLeaseKeepsTheBlobFromADeleteUntilItIsReleased() async throws {
        let lease = try await store.ingest(ByteStream(bytes: [1, 1, 1])).commit(expecting: nil)
        #expect(try await !store.delete(lease.blob.digest), "a leased blob is not deleted")
        #expect(try await store.contains(lease.blob.digest))
        lease.release()
        #expect(try await store.delete(lease.blob.digest))
        #expect(try await !store.contains(lease.blob.digest))
    }

    @Test func aCommitOfTheSameBytesWhileADeleteDecidesWinsOverTheDelete() async throws {
        // The delete reads "nobody holds it"; meanwhile an ingest of the same bytes commits
        // (finding the blob in place) and is about to be recorded. The delete must not go ahead.
        let first = try await store.put(ByteStream(bytes: [2, 2, 2]))
        let second = try await store.ingest(ByteStream(bytes: [2, 2, 2]))
        let lease = LockedBox<BlobLease?>(nil)
        let deleted = try await store.delete(first.digest) {
            lease.withLock { $0 = nil }
            let taken = try await second.commit(expecting: first.digest)
            lease.withLock { $0 = taken }
            return true
        }
        #expect(!deleted)
        #expect(try await store.contains(first.digest))
        lease.withLock { $0?.release() }
    }

    @Test func retainHoldsABlobThatIsThereAndNothingOtherwise() async throws {
        let blob = try await store.put(ByteStream(bytes: [3]))
        let held = try #require(try await store.retain(blob.digest))
        #expect(held.blob == blob)
        #expect(try await !store.delete(blob.digest))
        held.release()
        #expect(try await store.delete(blob.digest))
        #expect(try await store.retain(blob.digest) == nil)
    }

    @Test func digestsListsWhatTheStoreHolds() async throws {
        let a = try await store.put(ByteStream(bytes: [1]))
        let b = try await store.put(ByteStream(bytes: [2]))
        #expect(try await Set(store.digests()) == [a.digest, b.digest])
    }
}

enum InMemoryBytes {
    static func make(count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }
    }
}
