import Foundation
import Testing
import ViceCore
import ViceStorage
import ViceTestSupport

/// Deleting an image while another image with the same bytes is being stored: the blob must
/// survive, because the new image is about to be recorded with it. Before the ingest seam held
/// the blob from commit to record, the delete freed it and the new image was active without bytes.
@Suite struct ConcurrentDeleteTests {
    @Test func deletingAnImageWhileAnUploadOfTheSameBytesCommitsKeepsTheBytes() async throws {
        let hook = CommitHook()
        let fixture = try await RegistryFixture(wrapBlobs: { HookedBlobStore(base: $0, hook: hook) })
        let alice = try await fixture.user("alice")
        fixture.startWorkers()
        let bytes = Array("FROM alpine\nRUN true\n".utf8)
        let first = try await fixture.registry.createImage(Image(title: "first", contenttype: .dockerFile), owner: alice)
        let (upload, digest) = try await fixture.stage(bytes, image: first.id!, owner: alice)
        _ = try await fixture.registry.finishUpload(upload, owner: alice)
        _ = try await fixture.waitForImage(first.id!, owner: alice, status: .active)

        // The second upload of the same bytes: right after its commit, before it is recorded,
        // the first image is deleted.
        let second = try await fixture.registry.createImage(Image(title: "second", contenttype: .dockerFile), owner: alice)
        hook.set { try await fixture.registry.deleteImage(id: first.id!, owner: alice) }
        let (again, _) = try await fixture.stage(bytes, image: second.id!, owner: alice)
        _ = try await fixture.registry.finishUpload(again, owner: alice)
        let active = try await fixture.waitForImage(second.id!, owner: alice, status: .active)
        #expect(hook.ran)
        #expect(active.checksum == digest)
        #expect(try await fixture.blobs.contains(digest), "the bytes of the image just recorded are still there")
        let file = try await fixture.registry.imageFile(id: second.id!, owner: alice)
        #expect(try await fixture.blobs.get(file.digest).collect(upTo: 1 << 20) == bytes)
        await fixture.stopWorkers()

        // And once the last image holding them goes, they go.
        try await fixture.registry.deleteImage(id: second.id!, owner: alice)
        #expect(try await !fixture.blobs.contains(digest))
    }
}

/// Runs an action once, right after the next commit.
final class CommitHook: Sendable {
    private let action = LockedBox<(@Sendable () async throws -> Void)?>(nil)
    private let done = LockedBox(false)

    func set(_ body: @escaping @Sendable () async throws -> Void) { action.withLock { $0 = body } }
    var ran: Bool { done.withLock { $0 } }

    func fire() async throws {
        guard let body = action.withLock({ action -> (@Sendable () async throws -> Void)? in
            defer { action = nil }
            return action
        }) else { return }
        try await body()
        done.withLock { $0 = true }
    }
}

/// A blob store whose ingests call the hook after they commit.
struct HookedBlobStore: BlobStore {
    let base: any BlobStore
    let hook: CommitHook

    func beginIngest() async throws -> any BlobIngest { HookedIngest(base: try await base.beginIngest(), hook: hook) }
    func sealedIngest(_ id: IngestID) async throws -> (any BlobIngest)? {
        try await base.sealedIngest(id).map { HookedIngest(base: $0, hook: hook) }
    }
    func pendingIngests() async throws -> [IngestID] { try await base.pendingIngests() }
    func discardIngest(_ id: IngestID) async { await base.discardIngest(id) }
    func retain(_ digest: String) async throws -> BlobLease? { try await base.retain(digest) }
    func get(_ digest: String) async throws -> ByteStream { try await base.get(digest) }
    func get(_ digest: String, range: ClosedRange<Int64>) async throws -> ByteStream { try await base.get(digest, range: range) }
    func contains(_ digest: String) async throws -> Bool { try await base.contains(digest) }
    func delete(_ digest: String, ifUnused isUnused: @escaping @Sendable () async throws -> Bool) async throws -> Bool {
        try await base.delete(digest, ifUnused: isUnused)
    }
    func digests() async throws -> [String] { try await base.digests() }
    func localFile(of digest: String) throws -> URL? { try base.localFile(of: digest) }
    func usage() async throws -> BlobUsage { try await base.usage() }
}

final class HookedIngest: BlobIngest {
    let base: any BlobIngest
    let hook: CommitHook
    init(base: any BlobIngest, hook: CommitHook) {
        self.base = base
        self.hook = hook
    }

    var id: IngestID { base.id }
    func write(_ chunk: some ByteChunk) async throws { try await base.write(chunk) }
    func seal() async throws -> BlobRef { try await base.seal() }
    func reader() async throws -> any ByteReader { try await base.reader() }
    func commit(expecting expected: String?) async throws -> BlobLease {
        let lease = try await base.commit(expecting: expected)
        try await hook.fire()
        return lease
    }
    func cancel() async { await base.cancel() }
}
