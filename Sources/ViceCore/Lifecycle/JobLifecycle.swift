package import Foundation

/// The life of a job after an attempt failed: whether it runs again, when, and with what note —
/// decided in one place, without I/O. `WorkerPool` asks, the `JobHandler` persists the answer.
///
/// A transient failure is retried with backoff until the job's attempts are used up; a deferral
/// (the job cannot proceed yet) waits without using an attempt, but only until `deferralLimit`
/// after the job was created, so nothing waits forever; anything else fails at once.
package struct JobLifecycle: Sendable, Hashable {
    /// How an attempt ended.
    package enum Failure: Sendable, Hashable {
        /// The job cannot proceed yet; try again after `delay` seconds.
        case deferred(delay: TimeInterval, reason: String)
        /// Trying again may help.
        case transient(String)
        /// Trying again cannot help.
        case permanent(String)

        /// Sorts an error the way `RetryPolicy.isTransient` and `JobDeferred` say.
        package init(_ error: any Error) {
            let message = JobLifecycle.describe(error)
            if let deferral = error as? JobDeferred {
                self = .deferred(delay: deferral.delay, reason: deferral.reason)
            } else if RetryPolicy.isTransient(error) {
                self = .transient(message)
            } else {
                self = .permanent(message)
            }
        }
    }

    /// What becomes of the job.
    package enum Decision: Sendable, Hashable {
        /// Pending again from `at`; `note` is what the subject shows meanwhile.
        case retry(at: Date, note: String)
        /// The job is over; its subject failed with `reason`.
        case giveUp(reason: String)

        package var retryAt: Date? {
            if case .retry(let at, _) = self { return at }
            return nil
        }
    }

    /// The job as it is to be stored when the decision is a retry.
    package private(set) var job: Job

    package init(_ job: Job) {
        self.job = job
    }

    /// Decides after a failed attempt and, for a retry, makes the job pending again: lease gone,
    /// `runAt` set, the error noted; a deferral gives back the attempt its claim counted.
    package mutating func fail(_ failure: Failure, now: Date, retry policy: RetryPolicy,
                              deferralLimit: TimeInterval) -> Decision {
        let decision: Decision
        switch failure {
        case .deferred(let delay, let reason):
            if now.timeIntervalSince(job.createdAt) + delay > deferralLimit {
                decision = .giveUp(reason: "\(reason); gave up after waiting \(Int(deferralLimit)) s")
            } else {
                job.attempts = max(0, job.attempts - 1)
                decision = .retry(at: now.addingTimeInterval(delay), note: reason)
            }
        case .transient(let message) where job.attempts < job.maxAttempts:
            decision = .retry(at: now.addingTimeInterval(policy.delay(afterAttempt: job.attempts)),
                              note: "attempt \(job.attempts) of \(job.maxAttempts) failed: \(message); retrying")
        case .transient(let message), .permanent(let message):
            decision = .giveUp(reason: message)
        }
        if let at = decision.retryAt {
            job.state = .pending
            job.runAt = at
            job.leaseOwner = nil
            job.leaseExpires = nil
            job.lastError = Self.lastError(of: failure)
        }
        return decision
    }

    static func lastError(of failure: Failure) -> String {
        switch failure {
        case .deferred(_, let text), .transient(let text), .permanent(let text): text
        }
    }

    /// The caller-facing words of an error: what the registry, an adapter or a deferral said.
    package static func describe(_ error: any Error) -> String {
        switch error {
        case let error as ViceError: error.message
        case let error as AdapterError: error.message
        case let error as JobDeferred: error.reason
        default: String(describing: error)
        }
    }
}
