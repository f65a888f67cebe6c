package import Foundation
package import Logging

/// Workers consuming one queue with a fixed concurrency. Jobs are claimed with a lease that a
/// heartbeat renews, so a job of a dead process is claimed again; failures retry with backoff up
/// to the job's attempts. On shutdown the pool claims nothing new, lets running jobs finish within
/// `grace`, then cancels them and hands them back to the queue for the next start.
package final class WorkerPool: Sendable {
    package let queue: JobQueueName
    package let concurrency: Int
    private let jobs: any JobQueue
    private let handler: any JobHandler
    private let signal: JobSignal
    private let retry: RetryPolicy
    private let lease: TimeInterval
    private let pollInterval: Duration
    private let grace: Duration
    /// The longest a job may run; nil = no limit.
    private let timeLimit: Duration?
    /// How long after its creation a job may keep deferring itself.
    private let deferralLimit: TimeInterval
    private let owner: String
    private let logger: Logger
    private let stopRequested = OneShotEvent()
    private let running = LockedBox(0)
    private let cancellations: JobCancellations

    package init(queue: JobQueueName, concurrency: Int, jobs: any JobQueue, handler: any JobHandler,
                signal: JobSignal, retry: RetryPolicy = RetryPolicy(), lease: TimeInterval = 30,
                pollInterval: Duration = .seconds(1), grace: Duration = .seconds(30), timeLimit: Duration? = nil,
                deferralLimit: TimeInterval = 24 * 3600, cancellations: JobCancellations = JobCancellations(), logger: Logger) {
        self.cancellations = cancellations
        self.timeLimit = timeLimit
        self.deferralLimit = deferralLimit
        self.queue = queue
        self.concurrency = max(0, concurrency)
        self.jobs = jobs
        self.handler = handler
        self.signal = signal
        self.retry = retry
        self.lease = lease
        self.pollInterval = pollInterval
        self.grace = grace
        self.owner = "\(ProcessInfo.processInfo.processIdentifier)-\(IDGenerator.make(length: 8))"
        var logger = logger
        logger[metadataKey: "queue"] = "\(queue.rawValue)"
        self.logger = logger
    }

    /// Jobs being worked on right now.
    package var activeJobs: Int { running.withLock { $0 } }

    /// Runs the workers until `shutdown()` (or cancellation), then drains within the grace period.
    package func run() async {
        let workers = Task {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<concurrency {
                    group.addTask { await self.workerLoop(index) }
                }
            }
        }
        await withTaskCancellationHandler {
            await stopRequested.wait()
        } onCancel: {
            self.shutdown()
        }
        let grace = self.grace
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await workers.value; return true }
            group.addTask { (try? await Task.sleep(for: grace)) != nil ? false : true }
            if await group.next() == false {
                logger.warning("grace period over: cancelling running jobs, they stay queued")
                workers.cancel()
            }
            group.cancelAll()
        }
        await workers.value
    }

    /// Stops claiming jobs; `run()` returns once running jobs end (or the grace period does).
    package func shutdown() {
        stopRequested.fire()
        signal.notify()
    }

    private var stopping: Bool { stopRequested.hasFired || Task.isCancelled }

    private func workerLoop(_ index: Int) async {
        while !stopping {
            let job: Job?
            do {
                job = try await jobs.claim(queue: queue, owner: owner, lease: lease, now: Date())
            } catch {
                logger.error("claiming a job failed: \(error)")
                await signal.wait(timeout: pollInterval)
                continue
            }
            guard let job else {
                await signal.wait(timeout: pollInterval)
                continue
            }
            RegistryMetrics.workersBusy(queue: queue, running.withLock { $0 += 1; return $0 })
            await execute(job)
            RegistryMetrics.workersBusy(queue: queue, running.withLock { $0 -= 1; return $0 })
        }
    }

    /// Runs `body`, cancelling it and throwing `JobTimeLimitExceeded` once `limit` has passed.
    static func withTimeLimit(_ limit: Duration?, _ body: @escaping @Sendable () async throws -> Void) async throws {
        guard let limit else { return try await body() }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try await body(); return true }
            group.addTask { try await Task.sleep(for: limit); return false }
            let finished = try await group.next() ?? true
            group.cancelAll()
            if !finished { throw JobTimeLimitExceeded(limit: limit) }
        }
    }

    private func execute(_ job: Job) async {
        var logger = self.logger
        logger[metadataKey: "job"] = "\(job.id)"
        logger[metadataKey: "kind"] = "\(job.kind.rawValue)"
        logger[metadataKey: "subject"] = "\(job.subjectID)"
        logger.info("job started", metadata: ["attempt": "\(job.attempts)"])
        let started = ContinuousClock.now
        // A caller's cancel stops the work (the adapter call is cancelled with it); a shutdown
        // cancels this task instead, and the job waits for the next start.
        let cancelledByCaller = LockedBox(job.cancelRequested)
        let adapterLabel = LockedBox<String?>(nil)
        func measure(_ outcome: String) {
            RegistryMetrics.jobFinished(kind: job.kind, adapter: adapterLabel.withLock { $0 }, outcome: outcome,
                                        after: ContinuousClock.now - started)
        }
        let work = Task { [timeLimit] in
            try await JobAdapterLabel.$current.withValue(adapterLabel) {
                guard !cancelledByCaller.withLock({ $0 }) else { throw CancellationError() }
                try await self.withLeaseHeartbeat(job, onCancelRequest: { self.cancellations.cancel(jobID: job.id) }) {
                    try await Self.withTimeLimit(timeLimit) { try await self.handler.perform(job) }
                }
            }
        }
        cancellations.register(job.id, token: job.leaseToken) {
            cancelledByCaller.withLock { $0 = true }
            work.cancel()
        }
        defer { cancellations.unregister(job.id, token: job.leaseToken) }
        do {
            try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
            let seconds = (ContinuousClock.now - started).inSeconds
            logger.info("job finished", metadata: ["seconds": "\((seconds * 1000).rounded() / 1000)"])
            measure("succeeded")
        } catch {
            if cancelledByCaller.withLock({ $0 }) && !Task.isCancelled {
                logger.notice("job cancelled by a caller")
                measure("cancelled")
                do {
                    try await handler.recordCancellation(of: job)
                } catch {
                    logger.error("recording the cancel failed; the lease will expire and the job run again: \(error)")
                }
                return
            }
            if let stale = error as? StaleLease {
                // Fenced off: another worker holds the job now, and its result is the one recorded.
                logger.warning("job taken over by another worker; nothing recorded", metadata: ["token": "\(stale.token)"])
                return
            }
            if Task.isCancelled || error is CancellationError {
                // Shutdown: nothing failed, the job waits for the next start. The release runs in a
                // task of its own because this one is cancelled (and the store honours that).
                let (jobs, owner) = (self.jobs, self.owner)
                await Task { try? await jobs.release(jobID: job.id, owner: owner, token: job.leaseToken) }.value
                logger.notice("job interrupted by shutdown; released")
                return
            }
            let failure = JobLifecycle.Failure(error)
            var lifecycle = JobLifecycle(job)
            let decision = lifecycle.fail(failure, now: Date(), retry: retry, deferralLimit: deferralLimit)
            switch (decision, failure) {
            case (.retry(let at, _), _):
                logger.warning("job failed, will retry", metadata: ["error": "\(error)", "retryAt": "\(at)"])
                RegistryMetrics.jobRetried(kind: job.kind)
            case (.giveUp, .permanent) where !RetryPolicy.isKnown(error):
                // Nobody said what this is: it is not retried, and it is worth a look.
                logger.error("job failed with an unexpected error; not retried", metadata: [
                    "error": "\(error)", "type": "\(type(of: error))"])
            case (.giveUp, _):
                logger.error("job failed for good", metadata: ["error": "\(error)"])
            }
            if case .retry = decision { measure("retried") } else { measure("failed") }
            do {
                try await handler.recordFailure(of: lifecycle.job, decision: decision)
            } catch {
                logger.error("recording the failure failed; the lease will expire and the job run again: \(error)")
            }
        }
    }

    /// Runs `body` while renewing the job's lease every third of its length.
    private func withLeaseHeartbeat(_ job: Job, onCancelRequest: @escaping @Sendable () -> Void,
                                    _ body: @escaping @Sendable () async throws -> Void) async throws {
        let lease = self.lease
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await body()
                return true
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(lease / 3))
                    if Task.isCancelled { break }
                    do {
                        switch try await self.jobs.renewLease(jobID: job.id, owner: self.owner, token: job.leaseToken,
                                                               until: Date().addingTimeInterval(lease)) {
                        case .kept: continue
                        case .lost: return false
                        case .cancelRequested: onCancelRequest()
                        }
                    } catch {
                        self.logger.warning("renewing the lease of job \(job.id) failed: \(error)")
                    }
                }
                return false
            }
            // The body finishing (or throwing) ends the heartbeat; a heartbeat that stops early
            // (lease lost) leaves the body running.
            while let bodyFinished = try await group.next() {
                if bodyFinished {
                    group.cancelAll()
                    return
                }
            }
        }
    }
}

/// A job ran longer than its queue's time limit: it was stopped and fails (no retry).
package struct JobTimeLimitExceeded: Error, Sendable, CustomStringConvertible {
    package var limit: Duration
    package init(limit: Duration) { self.limit = limit }
    package var description: String { "the job ran longer than its limit of \(limit.components.seconds) s and was stopped" }
}
