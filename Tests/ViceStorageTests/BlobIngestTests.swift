import Crypto
import Foundation
import Testing
import ViceCore
import ViceStorage
import ViceTestSupport

/// A blob store under test: how to open one, and to open it again on the same data (a restart).
/// Every `BlobStore` implementation adds itself to `all`, and the whole suite runs against it.
struct BlobStoreUnderTest: Sendable, CustomStringConvertible {
    let description: String
    let open: @Sendable (TemporaryDirectory) throws -> any BlobStore

    static let file = BlobStoreUnderTest(description: "file") { try FileBlobStore(root: $0.url) }
    static let all = [file]
}

/// The one door for bytes — begin → write → seal → commit(expecting:) / cancel — and the leases
/// that keep a committed blob from a racing delete: the shared suite of the `BlobStore` seam.
@Suite struct BlobIngestTests {
    static func digest(_ bytes: [UInt8]) -> String {
        "sha256:" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    @Test(arguments: BlobStoreUnderTest.all)
    func anIngestHashesWhatItIsGivenAndCommitsItUnderItsDigest(_ kind: BlobStoreUnderTest) async throws {
        let directory = try TemporaryDirectory()
        let store = try kind.open(directory)
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

    @Test(arguments: BlobStoreUnderTest.all)
    func aCommitExpectingOtherBytesKeepsNothing(_ kind: BlobStoreUnderTest) async throws {
        let directory = try TemporaryDirectory()
        let store = try kind.open(directory)
        let ingest = try await store.ingest(ByteStream(bytes: [1, 2, 3]))
        await #expect(throws: ViceError.self) { try await ingest.commit(expecting: Self.digest([3, 2, 1])) }
        #expect(try await !store.contains(Self.digest([1, 2, 3])))
        #expect(try await store.pendingIngests().isEmpty)
    }

    @Test(arguments: BlobStoreUnderTest.all)
    func aCancelledIngestLeavesNothing(_ kind: BlobStoreUnderTest) async throws {
        let directory = try TemporaryDirectory()
        let store = try kind.open(directory)
        let ingest = try await store.beginIngest()
        try await ingest.write([UInt8](repeating: 7, count: 1000))
        #expect(try await store.pendingIngests() == [ingest.id])
        await ingest.cancel()
        #expect(try await store.pendingIngests().isEmpty)
        await #expect(throws: ViceError.self) { try await ingest.seal() }
    }

    @Test(arguments: BlobStoreUnderTest.all)
    func aSealedIngestIsFoundAgainAfterARestartAndAnUnsealedOneIsNot(_ kind: BlobStoreUnderTest) async throws {
        let directory = try TemporaryDirectory()
        let store = try kind.open(directory)
        let sealed = try await store.ingest(ByteStream(bytes: [4, 5, 6]))
        let open = try await store.beginIngest()
        try await open.write([9])
        let restarted = try kind.open(directory)
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

    @Test(arguments: BlobStoreUnderTest.all)
    func aLeaseKeepsTheBlobFromADeleteUntilItIsReleased(_ kind: BlobStoreUnderTest) async throws {
        let directory = try TemporaryDirectory()
        let store = try kind.open(directory)
        let lease = try await store.ingest(ByteStream(bytes: [1, 1, 1])).commit(expecting: nil)
        #expect(try await !store.delete(lease.blob.digest), "a leased blob is not deleted")
        #expect(try await store.contains(lease.blob.digest))
        lease.release()
        #expect(try await store.delete(lease.blob.digest))
        #expect(try await !store.contains(lease.blob.digest))
    }

    @Test(arguments: BlobStoreUnderTest.all)
    func aCommitOfTheSameBytesWhileADeleteDecidesWinsOverTheDelete(_ kind: BlobStoreUnderTest) async throws {
        let directory = try TemporaryDirectory()
        let store = try kind.open(directory)
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

    @Test(arguments: BlobStoreUnderTest.all)
    func retainHoldsABlobThatIsThereAndNothingOtherwise(_ kind: BlobStoreUnderTest) async throws {
        let directory = try TemporaryDirectory()
        let store = try kind.open(directory)
        let blob = try await store.put(ByteStream(bytes: [3]))
        let held = try #require(try await store.retain(blob.digest))
        #expect(held.blob == blob)
        #expect(try await !store.delete(blob.digest))
        held.release()
        #expect(try await store.delete(blob.digest))
        #expect(try await store.retain(blob.digest) == nil)
    }

    @Test(arguments: BlobStoreUnderTest.all)
    func digestsListsWhatTheStoreHolds(_ kind: BlobStoreUnderTest) async throws {
        let directory = try TemporaryDirectory()
        let store = try kind.open(directory)
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
