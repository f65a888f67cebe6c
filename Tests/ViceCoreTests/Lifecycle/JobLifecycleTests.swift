import Foundation
import Testing
import ViceCore

/// What becomes of a job after a failed attempt: retried with backoff, deferred without using an
/// attempt (but not for ever), or given up — decided without I/O.
@Suite struct JobLifecycleTests {
    static let created = Date(timeIntervalSince1970: 1_800_000_000)
    static let policy = RetryPolicy(base: 10, cap: 100)

    static func job(attempts: Int, maxAttempts: Int = 3, state: JobState = .running) -> Job {
        Job(kind: .importImage, subjectID: "i", state: state, attempts: attempts, maxAttempts: maxAttempts,
            leaseOwner: "worker", leaseExpires: created.addingTimeInterval(30), createdAt: created)
    }

    @Test func aTransientFailureIsRetriedWithBackoffWhileAttemptsRemain() {
        var lifecycle = JobLifecycle(Self.job(attempts: 2))
        let now = Self.created.addingTimeInterval(60)
        let decision = lifecycle.fail(.transient("connection reset"), now: now, retry: Self.policy, deferralLimit: 3600)
        guard case .retry(let at, let note) = decision else { Issue.record("not retried: \(decision)"); return }
        // Attempt 2: base · 2 = 20 s, ±20 %.
        #expect((16...24).contains(at.timeIntervalSince(now)))
        #expect(note == "attempt 2 of 3 failed: connection reset; retrying")
        #expect(lifecycle.job.state == .pending && lifecycle.job.runAt == at)
        #expect(lifecycle.job.leaseOwner == nil && lifecycle.job.leaseExpires == nil)
        #expect(lifecycle.job.lastError == "connection reset")
        #expect(lifecycle.job.attempts == 2, "the attempt counts")
    }

    @Test func aTransientFailureOfTheLastAttemptGivesUp() {
        var lifecycle = JobLifecycle(Self.job(attempts: 3))
        #expect(lifecycle.fail(.transient("reset"), now: Self.created, retry: Self.policy, deferralLimit: 3600)
            == .giveUp(reason: "reset"))
        #expect(lifecycle.job.state == .failed, "a job given up is not rescheduled")
        #expect(lifecycle.job.finishedAt == Self.created && lifecycle.job.errorKind == .transient && lifecycle.job.lastError == "reset")
    }

    @Test func aQueuedJobIsCancelledAtOnceARunningOneIsAskedToStop() throws {
        var queued = JobLifecycle(Self.job(attempts: 0, state: .pending))
        #expect(try queued.requestCancel(now: Self.created) == .cancelled)
        #expect(queued.job.state == .cancelled && queued.job.finishedAt == Self.created)
        #expect(throws: JobLifecycle.Refused.self) { try queued.requestCancel() }

        var running = JobLifecycle(Self.job(attempts: 1))
        #expect(try running.requestCancel(now: Self.created) == .requested)
        #expect(running.job.state == .running && running.job.cancelRequested)
        running.cancel(reason: "cancelled by a caller", now: Self.created)
        #expect(running.job.state == .cancelled && !running.job.cancelRequested && running.job.leaseOwner == nil)
    }

    @Test func onlyAFailedOrCancelledJobIsQueuedAgainWithAllItsAttempts() throws {
        var running = JobLifecycle(Self.job(attempts: 2))
        #expect(throws: JobLifecycle.Refused.self) { try running.requeue() }
        _ = running.fail(.permanent("bad disk"), now: Self.created, retry: Self.policy, deferralLimit: 3600)
        try running.requeue(now: Self.created)
        #expect(running.job.state == .pending && running.job.attempts == 0 && running.job.runAt == Self.created)
        #expect(running.job.lastError == nil && running.job.errorKind == nil && running.job.finishedAt == nil)
        var done = JobLifecycle(Self.job(attempts: 1))
        done.succeed(now: Self.created)
        #expect(done.job.state == .succeeded)
        #expect(throws: JobLifecycle.Refused.self) { try done.requeue() }
    }

    @Test func aPermanentFailureGivesUpAtOnce() {
        var lifecycle = JobLifecycle(Self.job(attempts: 1))
        #expect(lifecycle.fail(.permanent("bad disk"), now: Self.created, retry: Self.policy, deferralLimit: 3600)
            == .giveUp(reason: "bad disk"))
    }

    @Test func aDeferralWaitsWithoutUsingAnAttempt() {
        var lifecycle = JobLifecycle(Self.job(attempts: 3))
        let now = Self.created.addingTimeInterval(100)
        let decision = lifecycle.fail(.deferred(delay: 2, reason: "waiting for the image"), now: now, retry: Self.policy,
                                      deferralLimit: 3600)
        #expect(decision == .retry(at: now.addingTimeInterval(2), note: "waiting for the image"))
        #expect(lifecycle.job.attempts == 2, "the claim's attempt is given back")
    }

    @Test func aDeferralPastTheLimitGivesUp() {
        var lifecycle = JobLifecycle(Self.job(attempts: 1))
        let decision = lifecycle.fail(.deferred(delay: 2, reason: "waiting for the image"),
                                      now: Self.created.addingTimeInterval(3599), retry: Self.policy, deferralLimit: 3600)
        #expect(decision == .giveUp(reason: "waiting for the image; gave up after waiting 3600 s"))
    }

    @Test func errorsAreSortedByWhatTheySay() {
        #expect(JobLifecycle.Failure(JobDeferred(delay: 1, reason: "later")) == .deferred(delay: 1, reason: "later"))
        #expect(JobLifecycle.Failure(AdapterError(.unavailable, "down")) == .transient("down"))
        #expect(JobLifecycle.Failure(AdapterError(.notFound, "no such image")) == .permanent("no such image"))
        #expect(JobLifecycle.Failure(ViceError(.internal, "disk full")) == .transient("disk full"))
        #expect(JobLifecycle.Failure(ViceError.invalidInput("wrong")) == .permanent("wrong"))
        struct Unknown: Error {}
        #expect(JobLifecycle.Failure(Unknown()) == .permanent("Unknown()"), "an error nobody classified is not retried")
    }
}
