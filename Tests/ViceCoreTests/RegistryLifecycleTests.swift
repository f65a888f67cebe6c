import Foundation
import Testing
import ViceAdapterTesting
import ViceCore
import ViceInMemory
import ViceTestSupport
import ViceStorage
import ViceSQLite

@Suite struct RegistryLifecycleTests {
    @Test func anImageTravelsFromOneEnvironmentIntoAnotherAndIsRemovedAgain() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice")
        let source = try await fixture.memoryEnvironment(owner: alice, cloud: "source-\(UUID())")
        let targetCloud = "target-\(UUID())"
        let target = try await fixture.memoryEnvironment(owner: alice, cloud: targetCloud)
        fixture.startWorkers()

        let created = try await fixture.registry.createImage(
            Image(title: "raw sample", originEnvironment: Environment(id: source.id), environmentReference: "sample-raw"),
            owner: alice)
        #expect(created.status == .queued)
        #expect(created.imported == false)
        let image = try await fixture.waitForImage(created.id!, owner: alice, status: .active)
        let sample = InMemoryCloud.named("any", owner: "alice").image("sample-raw")!
        #expect(image.status == .active)
        #expect(image.imported == true)
        #expect(image.size == Int64(sample.bytes.count))
        #expect(image.contenttype == .diskRaw)
        #expect(image.checksum?.hasPrefix("sha256:") == true)
        #expect(image.originEnvironment?.id == source.id)
        #expect(image.originEnvironment?.credentials?.password == nil)

        let deployment = try await fixture.registry.createDeployment(
            Deployment(title: "copy", imageid: image.id, environmentId: target.id), owner: alice)
        #expect(deployment.status == .queued)
        let deployed = try #require(try await fixture.waitForDeployment(deployment.id!, owner: alice, status: .deployed))
        #expect(deployed.status == .deployed)
        let reference = try #require(deployed.environmentReference)
        let arrivedIntact = InMemoryCloud.named(targetCloud, owner: "alice").image(reference)?.bytes == sample.bytes
        #expect(arrivedIntact, "the deployed bytes equal the origin's")

        let removing = try await fixture.registry.deleteDeployment(id: deployment.id!, owner: alice)
        #expect(removing.status == .removing)
        let gone = await eventually { (try? await fixture.registry.deployment(id: deployment.id!, owner: alice)) == nil }
        #expect(gone)
        let removed = InMemoryCloud.named(targetCloud, owner: "alice").image(reference) == nil
        #expect(removed, "the image left the target cloud")
        await fixture.stopWorkers()
        #expect(try await fixture.registry.runtimeStats().importsPending == 0)
    }

    @Test func transientFailuresAreRetriedAndPermanentOnesFailAtOnceWithTheReason() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice")
        let cloud = "flaky-\(UUID())"
        let environment = try await fixture.memoryEnvironment(owner: alice, cloud: cloud)
        InMemoryCloud.named(cloud, owner: "alice").failNext(2)
        fixture.startWorkers(concurrency: 1)

        let flaky = try await fixture.registry.createImage(
            Image(title: "flaky", originEnvironment: Environment(id: environment.id), environmentReference: "sample-qcow2"),
            owner: alice)
        let recovered = try await fixture.waitForImage(flaky.id!, owner: alice, status: .active)
        #expect(recovered.status == .active)
        #expect(recovered.contenttype == .diskQcow2)

        let missing = try await fixture.registry.createImage(
            Image(title: "missing", originEnvironment: Environment(id: environment.id), environmentReference: "no-such-image"),
            owner: alice)
        let failed = try await fixture.waitForImage(missing.id!, owner: alice, status: .failed)
        #expect(failed.status == .failed)
        #expect(failed.statusMessage?.contains("no image 'no-such-image'") == true)
        #expect(try await fixture.store.read { try $0.jobs(subjectID: missing.id!) }.isEmpty)
        await fixture.stopWorkers()
    }

    @Test func wrongCredentialsFailTheImportWithAClearMessage() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice")
        let cloud = "locked-\(UUID())"
        InMemoryCloud.named(cloud, owner: "alice").requirePassword("right")
        let environment = try await fixture.memoryEnvironment(owner: alice, cloud: cloud, password: "wrong")
        fixture.startWorkers()
        let image = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: environment.id), environmentReference: "sample-raw"), owner: alice)
        let failed = try await fixture.waitForImage(image.id!, owner: alice, status: .failed)
        #expect(failed.statusMessage?.contains("refused the credentials") == true)
        await fixture.stopWorkers()
    }

    @Test func transientFailuresGiveUpAfterTheLastAttempt() async throws {
        let fixture = try await RegistryFixture(maxJobAttempts: 3)
        let alice = try await fixture.user("alice")
        let cloud = "down-\(UUID())"
        InMemoryCloud.named(cloud, owner: "alice").failNext(100)
        let environment = try await fixture.memoryEnvironment(owner: alice, cloud: cloud)
        fixture.startWorkers(concurrency: 1)
        let image = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: environment.id), environmentReference: "sample-raw"), owner: alice)
        let failed = try await fixture.waitForImage(image.id!, owner: alice, status: .failed)
        #expect(failed.statusMessage?.contains("briefly unavailable") == true)
        await fixture.stopWorkers()
    }

    @Test func anImportWithoutAnAdapterFailsSayingWhichAdaptersExist() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice")
        fixture.startWorkers()
        let image = try await fixture.registry.createImage(
            Image(title: "seed", originEnvironment: Environment(managementlayer: ManagementLayer(software: "aeiou")),
                  environmentReference: "aeiou"), owner: alice)
        let failed = try await fixture.waitForImage(image.id!, owner: alice, status: .failed)
        #expect(failed.statusMessage?.contains("no adapter is registered for managementlayer.software 'aeiou'") == true)
        #expect(failed.statusMessage?.contains("memory") == true)
        await fixture.stopWorkers()
    }

    @Test func aDeploymentWaitsForItsImageToBeStored() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice")
        let environment = try await fixture.memoryEnvironment(
            owner: alice, cloud: "slow-\(UUID())", specifics: .object(["chunkDelayMs": .number(20)]))
        let image = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: environment.id), environmentReference: "sample-raw"), owner: alice)
        // Deployed before the import has even started.
        let deployment = try await fixture.registry.createDeployment(
            Deployment(imageid: image.id, environmentId: environment.id), owner: alice)
        fixture.startWorkers()
        let deployed = try await fixture.waitForDeployment(deployment.id!, owner: alice, status: .deployed)
        #expect(deployed?.status == .deployed)
        #expect(deployed?.environmentReference != nil)
        await fixture.stopWorkers()
    }

    @Test func queuedJobsSurviveARestartAndJobsOfADeadProcessRunAgain() async throws {
        let directory = try TemporaryDirectory()
        var ids: [String] = []
        let alice: UserRecord
        do {
            // First process: accepts imports but dies before working on them, one mid-job.
            let first = try await RegistryFixture(directory: directory)
            alice = try await first.user("alice")
            let environment = try await first.memoryEnvironment(owner: alice, cloud: "durable-\(UUID())")
            for n in 0..<4 {
                let image = try await first.registry.createImage(
                    Image(title: "durable \(n)", originEnvironment: Environment(id: environment.id),
                          environmentReference: "sample-raw"), owner: alice)
                ids.append(image.id!)
            }
            let claimed = try await first.store.claim(queue: .import, owner: "dead-process", lease: 2, now: Date())
            #expect(claimed != nil)
            #expect(try await first.registry.runtimeStats().importsPending == 3)
        }
        // Second process on the same files. A store only this process uses hands the dead one's job
        // back at once; a shared one (PostgreSQL) leaves it to other nodes until its lease ran out.
        let second = try await RegistryFixture(directory: directory)
        if second.storeIsShared {
            #expect(try await second.store.requeueAbandoned() == 0)
            #expect(try await second.registry.runtimeStats().importsPending == 3)
        } else {
            #expect(try await second.store.requeueAbandoned() == 1)
            #expect(try await second.registry.runtimeStats().importsPending == 4)
        }
        second.startWorkers()
        for id in ids {
            let image = try await second.waitForImage(id, owner: alice, status: .active)
            #expect(image.status == .active)
        }
        await second.stopWorkers()
        #expect(try await second.registry.runtimeStats().importsPending == 0)
    }

    @Test func shutdownHandsRunningJobsBackToTheQueueAfterTheGracePeriod() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice")
        let environment = try await fixture.memoryEnvironment(
            owner: alice, cloud: "slow-\(UUID())", specifics: .object(["chunkDelayMs": .number(200)]))
        let image = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: environment.id), environmentReference: "sample-raw"), owner: alice)
        fixture.startWorkers(grace: .milliseconds(100))
        _ = try await fixture.waitForImage(image.id!, owner: alice, status: .importing)
        await fixture.stopWorkers()
        let jobs = try await fixture.store.read { try $0.jobs(subjectID: image.id!) }
        #expect(jobs.count == 1)
        #expect(jobs.first?.state == .pending)
        #expect(jobs.first?.attempts == 0)  // an interrupted attempt does not count
        #expect(try await fixture.registry.image(id: image.id!, owner: alice).status != .active)
    }

    @Test func deletingAnImageFreesItsBytesOnlyWhenNoOtherImageHoldsThem() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice")
        let environment = try await fixture.memoryEnvironment(owner: alice, cloud: "dedupe-\(UUID())")
        fixture.startWorkers()
        var images: [Image] = []
        for _ in 0..<2 {
            let image = try await fixture.registry.createImage(
                Image(originEnvironment: Environment(id: environment.id), environmentReference: "sample-dockerfile"),
                owner: alice)
            images.append(try await fixture.waitForImage(image.id!, owner: alice, status: .active))
        }
        await fixture.stopWorkers()
        let digest = try #require(images[0].checksum)
        #expect(images[1].checksum == digest)
        try await fixture.registry.deleteImage(id: images[0].id!, owner: alice)
        #expect(try await fixture.blobs.contains(digest))
        try await fixture.registry.deleteImage(id: images[1].id!, owner: alice)
        #expect(try await !fixture.blobs.contains(digest))
    }

    @Test func reimportingQueuesOneJobAndKeepsTheImageUsableAndEditsMoveNoBytes() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice")
        let environment = try await fixture.memoryEnvironment(owner: alice, cloud: "again-\(UUID())")
        fixture.startWorkers()
        let image = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: environment.id), environmentReference: "sample-raw"), owner: alice)
        _ = try await fixture.waitForImage(image.id!, owner: alice, status: .active)
        await fixture.stopWorkers()
        // Renaming moves no bytes; sending back what GET answered neither.
        let renamed = try await fixture.registry.updateImage(Image(id: image.id, title: "renamed"), owner: alice)
        _ = try await fixture.registry.updateImage(renamed, owner: alice)
        #expect(try await fixture.store.read { try $0.jobs(subjectID: image.id!) }.isEmpty)
        // A new reference is a new import.
        let moved = try await fixture.registry.updateImage(Image(id: image.id, environmentReference: "sample-qcow2"), owner: alice)
        #expect(moved.statusMessage == "re-import queued")
        #expect(try await fixture.store.read { try $0.jobs(subjectID: image.id!) }.count == 1)
        // Asked for twice more, the import is still queued once.
        _ = try await fixture.registry.requestImport(id: image.id!, owner: alice)
        let again = try await fixture.registry.requestImport(id: image.id!, owner: alice)
        #expect(again.title == "renamed")
        #expect(again.status == .active)
        #expect(again.statusMessage == "re-import queued")
        #expect(try await fixture.store.read { try $0.jobs(subjectID: image.id!) }.count == 1)
    }
}
