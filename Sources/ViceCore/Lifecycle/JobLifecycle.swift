package import Foundation

/// The life of a job — the one place where its state changes, without I/O:
///
/// ```
///   (new) ──▶ pending ── claim ──▶ running ── succeed ──▶ succeeded
///               ▲  │                 │  └──── fail ─────▶ failed (or pending again: a retry)
///               │  └── cancel ───────┴──────── cancel ───▶ cancelled
///               └──────────── requeue (a caller retries) ◀── failed, cancelled
/// ```
///
/// After a failed attempt it decides whether the job runs again, when, and with what note:
/// `WorkerPool` asks, the `JobHandler` persists the answer.
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

        /// How the error is shown on the job; nil for a deferral, which is no error (its reason
        /// is the job's note).
        package var kind: JobErrorKind? {
            switch self {
            case .deferred: nil
            case .transient: .transient
            case .permanent: .permanent
            }
        }

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

    /// The job as it is to be stored.
    package private(set) var job: Job

    /// An event the job's state does not allow.
    package typealias Refused = LifecycleRefusal<JobState>

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
        job.lastError = Self.lastError(of: failure)
        job.errorKind = failure.kind
        job.leaseOwner = nil
        job.leaseExpires = nil
        job.updatedAt = now
        if let at = decision.retryAt {
            job.state = .pending
            job.runAt = at
        } else {
            job.state = .failed
            job.finishedAt = now
        }
        return decision
    }

    /// The handler did the job.
    package mutating func succeed(now: Date = Date()) {
        job.state = .succeeded
        job.lastError = nil
        job.errorKind = nil
        end(now)
    }

    /// What a caller's cancel does to the job now.
    package enum CancelOutcome: Sendable, Hashable {
        /// It was waiting: it is cancelled, and its subject with it.
        case cancelled
        /// It is running: its worker is asked to stop it (and then calls `cancel`).
        case requested
    }

    /// A caller asks to cancel the job; refused once it ended.
    package mutating func requestCancel(now: Date = Date()) throws(Refused) -> CancelOutcome {
        switch job.state {
        case .pending:
            cancel(reason: "cancelled before it ran", now: now)
            return .cancelled
        case .running:
            job.cancelRequested = true
            job.updatedAt = now
            return .requested
        case .succeeded, .failed, .cancelled:
            throw Refused(event: "be cancelled", status: job.state)
        }
    }

    /// The job stopped because a caller cancelled it (or its subject went away).
    package mutating func cancel(reason: String, now: Date = Date()) {
        job.state = .cancelled
        job.lastError = reason
        job.errorKind = nil
        end(now)
    }

    /// A caller runs a failed or cancelled job again: from the start, with all its attempts.
    package mutating func requeue(now: Date = Date()) throws(Refused) {
        guard job.state == .failed || job.state == .cancelled else { throw Refused(event: "be retried", status: job.state) }
        job.state = .pending
        job.attempts = 0
        job.runAt = now
        job.lastError = nil
        job.errorKind = nil
        job.finishedAt = nil
        job.startedAt = nil
        job.cancelRequested = false
        job.phase = nil
        job.bytesDone = nil
        job.bytesTotal = nil
        job.updatedAt = now
    }

    private mutating func end(_ now: Date) {
        job.leaseOwner = nil
        job.leaseExpires = nil
        job.cancelRequested = false
        job.finishedAt = now
        job.updatedAt = now
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
