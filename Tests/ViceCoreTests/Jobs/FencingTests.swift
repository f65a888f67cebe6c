import Foundation
import Testing
@testable import ViceCore
import ViceSQLite
import ViceTestSupport

/// Fencing tokens: a worker whose lease ran out (it paused, or was cut off) and that wakes up
/// after another worker claimed its job cannot record anything about the job.
@Suite struct FencingTests {
    @Test func aWorkerWhoseLeaseRanOutCannotRecordOverTheOneThatTookOver() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice", admin: true)
        let environment = try await fixture.registry.createEnvironment(
            Environment(title: "fenced", credentials: Credentials(location: "fence-\(UUID())", username: "u", password: "cloud-secret"),
                        managementlayer: ManagementLayer(software: "memory")), owner: alice)
        let image = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: environment.id), environmentReference: "sample-raw"), owner: alice)

        // Worker A claims the import and pauses past its lease; worker B claims it again.
        let now = Date()
        let a = try #require(try await fixture.store.claim(queue: .import, owner: "A", lease: 1, now: now))
        let b = try #require(try await fixture.store.claim(queue: .import, owner: "B", lease: 60, now: now.addingTimeInterval(2)))
        #expect(b.id == a.id && b.leaseToken > a.leaseToken)
        #expect(try await fixture.store.renewLease(jobID: a.id, owner: "A", token: a.leaseToken, until: now.addingTimeInterval(60)) == .lost)

        // A wakes up and does the work: fenced off, nothing of it is recorded.
        await #expect(throws: StaleLease.self) { try await fixture.registry.perform(a) }
        #expect(try await fixture.registry.job(id: a.id, owner: alice).state == "running")
        #expect(try await fixture.registry.image(id: image.id!, owner: alice).status != .active)

        // B's result is the one that counts; A's late failure report changes nothing.
        try await fixture.registry.perform(b)
        #expect(try await fixture.registry.job(id: a.id, owner: alice).state == "succeeded")
        #expect(try await fixture.registry.image(id: image.id!, owner: alice).status == .active)
        await #expect(throws: StaleLease.self) {
            try await fixture.registry.recordFailure(of: a, decision: .giveUp(reason: "late"))
        }
        #expect(try await fixture.registry.job(id: a.id, owner: alice).state == "succeeded")
        #expect(try await fixture.registry.image(id: image.id!, owner: alice).status == .active)
    }
}

/// A job claimed again here while its first attempt still runs: a cancel stops both attempts, and
/// the first one ending does not make the second uncancellable.
@Suite struct JobCancellationsTests {
    @Test func aCancelStopsEveryAttemptAndEachAttemptUnregistersOnlyItself() {
        let cancellations = JobCancellations()
        let stopped = LockedBox<[Int64]>([])
        cancellations.register("job", token: 1) { stopped.withLock { $0.append(1) } }
        cancellations.register("job", token: 2) { stopped.withLock { $0.append(2) } }
        #expect(cancellations.cancel(jobID: "job"))
        #expect(stopped.withLock { $0.sorted() } == [1, 2])
        cancellations.unregister("job", token: 1)
        #expect(cancellations.cancel(jobID: "job"), "the second attempt is still registered")
        #expect(stopped.withLock { $0 } .last == 2)
        cancellations.unregister("job", token: 2)
        #expect(!cancellations.cancel(jobID: "job"))
    }
}
