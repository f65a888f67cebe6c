import Crypto
import Foundation
import Testing
import ViceCore
import ViceInMemory
import ViceTestSupport
import ViceAdapterTesting
import ViceStorage

@Suite struct StoreJobTests {
    @Test func aStoreJobCommitsStagedBytesAndReportsThemInRuntimeStats() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice")
        let image = try await fixture.registry.createImage(Image(title: "up", contenttype: .diskRaw), owner: alice)
        let bytes = Array(repeating: UInt8(9), count: 300_000)
        let (ticket, digest) = try await fixture.stage(bytes, image: image.id!, owner: alice)
        let storing = try await fixture.registry.finishUpload(ticket, owner: alice)
        #expect(storing.status == .storing)
        #expect(try await fixture.registry.runtimeStats().storePending == 1)
        fixture.startWorkers()
        let active = try await fixture.waitForImage(image.id!, owner: alice, status: .active)
        #expect(active.checksum == digest)
        #expect(active.size == Int64(bytes.count))
        #expect(try await fixture.registry.runtimeStats().storePending == 0)
        let stored = try await fixture.blobs.get(digest).collect(upTo: 1 << 20)
        #expect(stored.count == bytes.count)
        await fixture.stopWorkers()
    }

    @Test func aCrashBetweenCommittingTheBlobAndRecordingItIsFinishedOnTheNextRun() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice")
        let image = try await fixture.registry.createImage(Image(title: "up"), owner: alice)
        let bytes = Array("FROM alpine\n".utf8)
        let (ticket, digest) = try await fixture.stage(bytes, image: image.id!, owner: alice)
        _ = try await fixture.registry.finishUpload(ticket, owner: alice)
        // The process died right after moving the file into the store: the job is still queued.
        let sealed = try #require(try await fixture.blobs.sealedIngest(ticket.ingestID))
        _ = try await sealed.commit(expecting: digest)
        #expect(try await !fixture.blobs.pendingIngests().contains(ticket.ingestID))
        fixture.startWorkers()
        let active = try await fixture.waitForImage(image.id!, owner: alice, status: .active)
        #expect(active.checksum == digest)
        await fixture.stopWorkers()
    }

    @Test func stagedFilesNoJobRefersToAreRemovedAtStartUp() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice")
        let image = try await fixture.registry.createImage(Image(title: "up"), owner: alice)
        let (cutOff, _) = try await fixture.stage([1, 2, 3], image: image.id!, owner: alice)
        let (queued, _) = try await fixture.stage([4, 5, 6], image: image.id!, owner: alice)
        _ = try await fixture.registry.finishUpload(queued, owner: alice)
        #expect(try await fixture.registry.removeOrphanedIngests() == 1)
        #expect(try await !fixture.blobs.pendingIngests().contains(cutOff.ingestID))
        #expect(try await fixture.blobs.pendingIngests().contains(queued.ingestID))
    }

    @Test func aRejectedReuploadKeepsTheBytesTheImageHad() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice")
        let image = try await fixture.registry.createImage(Image(title: "df", contenttype: .dockerFile), owner: alice)
        fixture.startWorkers()
        let good = Array("FROM alpine\n".utf8)
        let (first, firstDigest) = try await fixture.stage(good, image: image.id!, owner: alice)
        _ = try await fixture.registry.finishUpload(first, owner: alice)
        _ = try await fixture.waitForImage(image.id!, owner: alice, status: .active)
        let bad = Array("RUN rm -rf /\n".utf8)
        let (second, secondDigest) = try await fixture.stage(bad, image: image.id!, owner: alice)
        _ = try await fixture.registry.finishUpload(second, owner: alice)
        var after = try await fixture.registry.image(id: image.id!, owner: alice)
        _ = try await eventually {
            after = try await fixture.registry.image(id: image.id!, owner: alice)
            return after.statusMessage != nil
        }
        #expect(after.status == .active)
        #expect(after.checksum == firstDigest)
        #expect(after.statusMessage?.contains("the last upload failed") == true)
        #expect(try await fixture.blobs.contains(firstDigest))
        #expect(try await !fixture.blobs.contains(secondDigest))
        await fixture.stopWorkers()
    }
}

@Suite struct DeleteDuringDeployTests {
    @Test func deletingAnImageWhileItIsBeingDeployedLetsTheDeploymentFinishWithItsBytes() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice")
        let sourceCloud = "src-\(UUID())"
        let big = InMemoryCloud.pseudoRandomBytes(count: 6 << 20, seed: 7)
        InMemoryCloud.named(sourceCloud, owner: "alice").put(.init(reference: "big", title: "big", contenttype: .diskRaw, bytes: big))
        let source = try await fixture.memoryEnvironment(owner: alice, cloud: sourceCloud)
        let targetCloud = "slow-target-\(UUID())"
        // The store hands out 1 MiB chunks: six of them, 150 ms apart.
        let target = try await fixture.memoryEnvironment(owner: alice, cloud: targetCloud,
                                                         specifics: .object(["chunkDelayMs": .number(150)]))
        fixture.startWorkers()
        let image = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: source.id), environmentReference: "big"), owner: alice)
        let active = try await fixture.waitForImage(image.id!, owner: alice, status: .active)
        let digest = try #require(active.checksum)
        let deployment = try await fixture.registry.createDeployment(
            Deployment(imageid: image.id, environmentId: target.id), owner: alice)
        _ = try await fixture.waitForDeployment(deployment.id!, owner: alice, status: .deploying)
        try await fixture.registry.deleteImage(id: image.id!, owner: alice)
        let deployed = try await fixture.waitForDeployment(deployment.id!, owner: alice, status: .deployed)
        #expect(deployed?.status == .deployed)
        let arrived = InMemoryCloud.named(targetCloud, owner: "alice").image(try #require(deployed?.environmentReference))?.bytes
        let intact = arrived == big
        #expect(intact, "the deployment received every byte although the image was deleted meanwhile")
        #expect(try await !fixture.blobs.contains(digest), "the blob is freed")
        await fixture.stopWorkers()
    }
}
