import Crypto
import Foundation
import Testing
import ViceCore
import ViceS3
import ViceStorage
import ViceTestSupport

/// The `BlobStore` seam, one suite for every implementation: each test runs against the file
/// store and against the S3 store on the SeaweedFS `script/test` starts.
enum BlobBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case files
    case s3

    var testDescription: String { rawValue }

    /// A store of its own (a fresh folder or bucket), and a second view of the same bytes (a
    /// restart, or another node).
    struct Fixture: Sendable {
        let store: any BlobStore
        let reopen: @Sendable () -> any BlobStore
        let directory: TemporaryDirectory?
    }

    func make() async throws -> Fixture {
        switch self {
        case .files:
            let directory = try TemporaryDirectory()
            let root = directory.url.appendingPathComponent("store")
            return Fixture(store: try FileBlobStore(root: root), reopen: { try! FileBlobStore(root: root) }, directory: directory)
        case .s3:
            let location = try Self.freshBucket()
            let store = S3BlobStore(location: location, partSize: 5 << 20, orphanAge: 0)
            try await store.prepare()
            return Fixture(store: store, reopen: { S3BlobStore(location: location, partSize: 5 << 20, orphanAge: 0) }, directory: nil)
        }
    }

    /// A new place on the test SeaweedFS — a prefix of its own in one bucket (each bucket takes
    /// volumes of its own there); fails, never skips, without it.
    static func freshBucket() throws -> S3Location {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["VICE_TEST_S3_ENDPOINT"], let key = environment["VICE_TEST_S3_ACCESS_KEY"],
              let secret = environment["VICE_TEST_S3_SECRET_KEY"] else {
            throw ViceError(.internal, "VICE_TEST_S3_ENDPOINT is not set: run the tests with script/test, which starts SeaweedFS")
        }
        return S3Location(endpoint: endpoint, bucket: "vice-tests", accessKeyID: key, secretAccessKey: secret,
                          prefix: "store-\(UUID().uuidString.lowercased())/")
    }
}

@Suite struct BlobStoreConformanceTests {
    static func digest(_ bytes: [UInt8]) -> String { "sha256:" + SHA256.hash(data: bytes).hexString }

    static func random(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func collect(_ stream: ByteStream) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in stream { bytes += chunk }
        return bytes
    }

    @Test(arguments: BlobBackend.allCases) func bytesGoInThroughAnIngestAndComeOutTheSame(_ backend: BlobBackend) async throws {
        let fixture = try await backend.make()
        let store = fixture.store
        defer { withExtendedLifetime(fixture) {} }
        // 12 MiB and a bit: several parts where the store uploads in parts.
        for content in [[UInt8](), Self.random(1000), Self.random((12 << 20) + 123)] {
            let ingest = try await store.beginIngest()
            for start in stride(from: 0, to: content.count, by: 1 << 20) {
                try await ingest.write(Array(content[start..<min(start + (1 << 20), content.count)]))
            }
            let sealed = try await ingest.seal()
            #expect(sealed == BlobRef(digest: Self.digest(content), size: Int64(content.count)))
            #expect(!(try await store.contains(sealed.digest)), "nothing under the digest before the commit")
            let lease = try await ingest.commit(expecting: sealed.digest)
            lease.release()
            #expect(try await store.contains(sealed.digest))
            #expect(try await Self.collect(try await store.get(sealed.digest)) == content)
            #expect(try await store.digests().contains(sealed.digest))
            if content.count > 100 {
                let range: ClosedRange<Int64> = 7...Int64(content.count - 3)
                #expect(try await Self.collect(try await store.get(sealed.digest, range: range)) == Array(content[7...(content.count - 3)]))
            }
        }
        #expect(try await store.pendingIngests().isEmpty, "committed ingests leave nothing staged")
        // The empty blob, 1000 bytes and 12 MiB + 123, as the metrics count them.
        #expect(try await store.usage() == BlobUsage(blobs: 3, bytes: 1000 + (12 << 20) + 123))
    }

    @Test(arguments: BlobBackend.allCases) func sealedBytesCanBeReadAtRandomBeforeTheCommit(_ backend: BlobBackend) async throws {
        let fixture = try await backend.make()
        let store = fixture.store
        defer { withExtendedLifetime(fixture) {} }
        let content = Self.random(3 << 20)
        let ingest = try await store.ingest(ByteStream(bytes: content))
        let reader = try await ingest.reader()
        #expect(reader.size == Int64(content.count))
        for (offset, count) in [(0, 512), (1 << 20 - 10, 20), ((3 << 20) - 100, 500), (65_536, 1 << 20)] {
            let read = try await BlockingIO.run { try reader.read(at: Int64(offset), count: count) }
            #expect(read == Array(content[offset..<min(content.count, offset + count)]), "at \(offset)")
        }
        await ingest.cancel()
    }

    @Test(arguments: BlobBackend.allCases) func aWrongDigestOrACancelKeepsNothing(_ backend: BlobBackend) async throws {
        let fixture = try await backend.make()
        let store = fixture.store
        defer { withExtendedLifetime(fixture) {} }
        let content = Self.random(6 << 20)
        let wrong = try await store.ingest(ByteStream(bytes: content))
        await #expect(throws: ViceError.self) { _ = try await wrong.commit(expecting: Self.digest([1, 2, 3])) }
        #expect(!(try await store.contains(Self.digest(content))))
        let cancelled = try await store.beginIngest()
        try await cancelled.write(content)   // past a part: an upload is under way
        await cancelled.cancel()
        #expect(try await store.pendingIngests().isEmpty)
        #expect(try await store.digests().isEmpty)
    }

    @Test(arguments: BlobBackend.allCases) func aSealedIngestIsFoundByAnotherInstanceAndCommittedThere(_ backend: BlobBackend) async throws {
        let fixture = try await backend.make()
        defer { withExtendedLifetime(fixture) {} }
        let content = Self.random(2000)
        let ingest = try await fixture.store.ingest(ByteStream(bytes: content))
        #expect(try await fixture.store.pendingIngests() == [ingest.id])
        let other = fixture.reopen()
        let found = try #require(try await other.sealedIngest(ingest.id))
        #expect(try await found.seal() == BlobRef(digest: Self.digest(content), size: 2000))
        try await found.commit(expecting: nil).release()
        #expect(try await Self.collect(try await fixture.store.get(Self.digest(content))) == content)
        #expect(try await other.sealedIngest(ingest.id) == nil, "committed: no longer sealed")
    }

    @Test(arguments: BlobBackend.allCases) func identicalContentIsKeptOnceAndALeaseHoldsItAgainstADelete(_ backend: BlobBackend) async throws {
        let fixture = try await backend.make()
        let store = fixture.store
        defer { withExtendedLifetime(fixture) {} }
        let content = Self.random(4096)
        let first = try await store.ingest(ByteStream(bytes: content)).commit(expecting: nil)
        let second = try await store.ingest(ByteStream(bytes: content)).commit(expecting: nil)
        #expect(try await store.digests() == [Self.digest(content)])
        first.release()
        #expect(!(try await store.delete(Self.digest(content))), "the second commit still holds it")
        second.release()
        #expect(try await store.delete(Self.digest(content), ifUnused: { false }) == false, "a record holds it")
        #expect(try await store.delete(Self.digest(content)))
        #expect(!(try await store.contains(Self.digest(content))))
        await #expect(throws: ViceError.self) { _ = try await store.get(Self.digest(content)) }
        #expect(try await store.retain(Self.digest(content)) == nil)
    }

    @Test(arguments: BlobBackend.allCases) func aCommitWhileADeleteAsksTheMetadataWinsOverTheDelete(_ backend: BlobBackend) async throws {
        let fixture = try await backend.make()
        let store = fixture.store
        defer { withExtendedLifetime(fixture) {} }
        let content = Self.random(5000)
        try await store.ingest(ByteStream(bytes: content)).commit(expecting: nil).release()
        let digest = Self.digest(content)
        let racing = try await store.ingest(ByteStream(bytes: content))
        let lease = LockedBox<BlobLease?>(nil)
        // The metadata says "nobody holds it"; meanwhile an ingest of the same bytes commits.
        let deleted = try await store.delete(digest, ifUnused: {
            lease.withLock { _ in }
            let committed = try await racing.commit(expecting: digest)
            lease.withLock { $0 = committed }
            return true
        })
        #expect(!deleted, "the commit's lease spoils the delete")
        #expect(try await Self.collect(try await store.get(digest)) == content, "the blob the commit recorded is there")
        lease.withLock { $0 }?.release()
    }
}
