import Foundation
import Logging
import Testing
import ViceCore
import ViceSQLite
import ViceTestSupport

/// The worker pool against the real SQLite job queue, with a handler that does what it is told:
/// retries, deferrals, unknown errors, time limits and shutdown.
@Suite struct WorkerPoolTests {
    /// Does what each attempt's script says and records every decision the pool hands it.
    final class ScriptedHandler: JobHandler, @unchecked Sendable {
        enum Step { case succeed, fail(any Error & Sendable), sleep(Duration) }
        let store: SQLiteStore
        private let lock = NSLock()
        private var script: [Step]
        private(set) var attempts: [Int] = []
        private(set) var decisions: [JobLifecycle.Decision] = []
        private let finished = AsyncStream<Void>.makeStream()

        init(store: SQLiteStore, script: [Step]) {
            self.store = store
            self.script = script
        }

        var events: AsyncStream<Void> { finished.stream }

        func perform(_ job: Job) async throws {
            let step: Step = lock.withLock {
                attempts.append(job.attempts)
                return script.isEmpty ? .succeed : script.removeFirst()
            }
            switch step {
            case .succeed:
                try await succeed(job)
            case .fail(let error):
                throw error
            case .sleep(let duration):
                try await Task.sleep(for: duration)
                try await succeed(job)
            }
        }

        private func succeed(_ job: Job) async throws {
            var lifecycle = JobLifecycle(job)
            lifecycle.succeed()
            let done = lifecycle.job
            try await store.write { try $0.updateJob(done) }
            finished.continuation.yield()
        }

        func recordFailure(of job: Job, decision: JobLifecycle.Decision) async throws {
            try await store.write { try $0.updateJob(job) }
            lock.withLock { decisions.append(decision) }
            if case .giveUp = decision { finished.continuation.yield() }
        }

        func recordCancellation(of job: Job) async throws {
            var lifecycle = JobLifecycle(job)
            lifecycle.cancel(reason: "cancelled by a caller")
            let cancelled = lifecycle.job
            try await store.write { try $0.updateJob(cancelled) }
            lock.withLock { cancels += 1 }
            finished.continuation.yield()
        }

        private(set) var cancels = 0
        var seenAttempts: [Int] { lock.withLock { attempts } }
        var seenDecisions: [JobLifecycle.Decision] { lock.withLock { decisions } }
        var seenCancels: Int { lock.withLock { cancels } }
    }

    struct Unclassified: Error, Sendable {}

    let directory: TemporaryDirectory
    let store: SQLiteStore

    init() throws {
        directory = try TemporaryDirectory()
        store = try SQLiteStore(path: directory.file("jobs.sqlite"))
    }

    func run(_ script: [ScriptedHandler.Step], maxAttempts: Int = 3, grace: Duration = .seconds(5),
             timeLimit: Duration? = nil, deferralLimit: TimeInterval = 3600) async throws -> (ScriptedHandler, Job) {
        let job = Job(kind: .importImage, subjectID: "subject", maxAttempts: maxAttempts)
        try await store.write { try $0.insertJob(job) }
        let handler = ScriptedHandler(store: store, script: script)
        let pool = WorkerPool(queue: .import, concurrency: 1, jobs: store, handler: handler, signal: JobSignal(),
                              retry: RetryPolicy(base: 0.01, cap: 0.02), lease: 5, pollInterval: .milliseconds(20),
                              grace: grace, timeLimit: timeLimit, deferralLimit: deferralLimit, logger: Logger(label: "test"))
        let running = Task { await pool.run() }
        var events = handler.events.makeAsyncIterator()
        _ = await events.next()
        pool.shutdown()
        await running.value
        return (handler, job)
    }

    @Test func aTransientFailureIsRetriedUntilTheAttemptsAreUsedUp() async throws {
        let (handler, _) = try await run(Array(repeating: .fail(AdapterError(.unavailable, "down")), count: 5))
        #expect(handler.seenAttempts == [1, 2, 3])
        #expect(handler.seenDecisions.count == 3)
        #expect(handler.seenDecisions.last == .giveUp(reason: "down"))
        #expect(try await store.read { try $0.jobs(subjectID: "subject") }.isEmpty)
        let failed = try #require(try await store.read { try $0.jobs(JobQuery(subjectID: "subject")) }.first)
        #expect(failed.state == .failed && failed.errorKind == .transient && failed.lastError == "down" && failed.finishedAt != nil)
    }

    @Test(arguments: [false, true])
    func aCallersCancelStopsTheRunningJob(acrossNodes: Bool) async throws {
        let job = Job(kind: .importImage, subjectID: "long", maxAttempts: 3)
        try await store.write { try $0.insertJob(job) }
        let handler = ScriptedHandler(store: store, script: [.sleep(.seconds(60))])
        let cancellations = JobCancellations()
        let pool = WorkerPool(queue: .import, concurrency: 1, jobs: store, handler: handler, signal: JobSignal(),
                              lease: 0.3, pollInterval: .milliseconds(20), grace: .seconds(5), cancellations: cancellations,
                              logger: Logger(label: "test"))
        let running = Task { await pool.run() }
        #expect(await eventually { handler.seenAttempts.count == 1 })
        if acrossNodes {
            // Another node's API asked: the flag reaches this worker when it renews the lease.
            try await store.write { tx in
                var current = try #require(try tx.job(id: job.id))
                current.cancelRequested = true
                try tx.updateJob(current)
            }
        } else {
            #expect(cancellations.cancel(jobID: job.id))
        }
        #expect(await eventually(timeout: .seconds(10)) { handler.seenCancels == 1 })
        pool.shutdown()
        await running.value
        #expect(handler.seenDecisions.isEmpty, "a cancel is no failure")
        #expect(try await store.read { try $0.job(id: job.id) }?.state == .cancelled)
        #expect(cancellations.cancel(jobID: job.id) == false, "an ended job is no longer registered")
    }

    @Test func aTransientFailureThenSuccessFinishesTheJob() async throws {
        let (handler, _) = try await run([.fail(AdapterError(.unavailable, "down")), .succeed])
        #expect(handler.seenAttempts == [1, 2])
        #expect(handler.seenDecisions.count == 1)
        #expect(handler.seenDecisions.first?.retryAt != nil)
    }

    @Test func anUnclassifiedErrorIsNotRetried() async throws {
        let (handler, _) = try await run([.fail(Unclassified()), .succeed])
        #expect(handler.seenAttempts == [1])
        guard case .giveUp? = handler.seenDecisions.first else {
            Issue.record("retried: \(handler.seenDecisions)")
            return
        }
    }

    @Test func deferralsDoNotUseAttempts() async throws {
        let deferral = JobDeferred(delay: 0.01, reason: "not yet")
        let (handler, _) = try await run(Array(repeating: .fail(deferral), count: 6) + [.succeed], maxAttempts: 2)
        #expect(handler.seenAttempts == Array(repeating: 1, count: 7), "each claim after a deferral is the first attempt again")
        #expect(handler.seenDecisions.allSatisfy { $0 == .retry(at: $0.retryAt!, note: "not yet") })
    }

    @Test func deferralsEndAtTheLimit() async throws {
        let deferral = JobDeferred(delay: 0.05, reason: "not yet")
        let (handler, _) = try await run(Array(repeating: .fail(deferral), count: 100), deferralLimit: 0.2)
        guard case .giveUp(let reason)? = handler.seenDecisions.last else {
            Issue.record("never gave up: \(handler.seenDecisions.count) decisions")
            return
        }
        #expect(reason.contains("gave up after waiting"))
    }

    @Test func aJobOverItsTimeLimitFailsForGood() async throws {
        let (handler, _) = try await run([.sleep(.seconds(30))], timeLimit: .milliseconds(100))
        guard case .giveUp(let reason)? = handler.seenDecisions.first else {
            Issue.record("not given up: \(handler.seenDecisions)")
            return
        }
        #expect(reason.contains("ran longer than its limit"))
    }

    @Test func shutdownHandsARunningJobBackUnharmed() async throws {
        let job = Job(kind: .importImage, subjectID: "long", maxAttempts: 3)
        try await store.write { try $0.insertJob(job) }
        let handler = ScriptedHandler(store: store, script: [.sleep(.seconds(60))])
        let pool = WorkerPool(queue: .import, concurrency: 1, jobs: store, handler: handler, signal: JobSignal(),
                              lease: 5, pollInterval: .milliseconds(20), grace: .milliseconds(100), logger: Logger(label: "test"))
        let running = Task { await pool.run() }
        _ = await eventually { handler.seenAttempts.count == 1 }
        pool.shutdown()
        await running.value
        let left = try await store.read { try $0.jobs(subjectID: "long") }
        #expect(left.count == 1)
        #expect(left.first?.state == .pending, "released for the next start")
        #expect(left.first?.attempts == 0, "the interrupted attempt does not count")
        #expect(handler.seenDecisions.isEmpty, "nothing failed")
    }
}
