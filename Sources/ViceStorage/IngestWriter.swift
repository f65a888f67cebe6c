import Foundation
import ViceCore

#if canImport(Glibc)
import Glibc
#endif

/// Writes an ingest's bytes to its staging file on the threads of `IngestWriterPool`, so that
/// receiving (the event loop), hashing (the writer's task) and writing (a pool thread) overlap
/// instead of taking turns, while the number of writer threads stays fixed however many run.
/// At most `window` bytes wait in memory; a producer that gets ahead waits (back-pressure).
/// Written data is pushed towards the disk as it goes (`fdatasync` every `syncEvery` bytes), so the
/// final `fsync` that makes the bytes durable has little left to do. Syncs run on a serial queue
/// of the writer's own, never on the pool's threads: one ingest's slow fsync does not hold up the
/// writes of every other one.
final class IngestWriter: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [any ByteChunk] = []
    private var queuedBytes = 0
    private var finishing = false
    private var failure: ViceError?
    private var producer: CheckedContinuation<Void, any Error>?
    private var completion: CheckedContinuation<Void, any Error>?
    /// Whether the writer is in the pool's ready list or being served: at most one thread
    /// serves a writer at a time, so its buffers are written in order.
    private var scheduled = false
    private var closed = false
    private var sinceSync = 0
    private let descriptor: Int32
    private let window: Int
    private let syncEvery: Int
    private let pool: IngestWriterPool
    /// This writer's syncs, in order, and then its close: never on the pool's threads.
    private let syncs = DispatchQueue(label: "vice.ingest-sync")

    init(path: String, window: Int = 8 << 20, syncEvery: Int = 64 << 20, pool: IngestWriterPool = .shared) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ViceError(.internal, "cannot create the staging file: \(String(cString: strerror(errno)))")
        }
        self.window = window
        self.syncEvery = syncEvery
        self.pool = pool
    }

    /// Queues a chunk; waits while the window is full.
    func write(_ buffer: any ByteChunk) async throws {
        try await unlessFailed { continuation in
            queue.append(buffer)
            queuedBytes += buffer.byteCount
            if queuedBytes > window {
                producer = continuation  // resumed once a pool thread has drained half the window
            } else {
                continuation.resume()
            }
            let schedule = claimSchedule()
            condition.unlock()
            if schedule { pool.schedule(self) }
        }
    }

    /// Writes what is queued, fsyncs and closes the file.
    func finish() async throws {
        try await unlessFailed { continuation in
            finishing = true
            completion = continuation
            let schedule = claimSchedule()
            condition.unlock()
            if schedule { pool.schedule(self) }
        }
    }

    /// Runs `body` with the lock held and the caller's continuation, unless writing failed
    /// already (then the caller gets the failure). `body` resumes or keeps the continuation and
    /// unlocks.
    private func unlessFailed(_ body: (CheckedContinuation<Void, any Error>) -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            condition.lock()
            if let failure {
                condition.unlock()
                continuation.resume(throwing: failure)
                return
            }
            body(continuation)
        }
    }

    /// Stops writing. The file itself goes with the ingest (`FileIngest.cancel`).
    func abort() {
        condition.lock()
        failure = failure ?? ViceError(.internal, "the ingest was cancelled")
        finishing = true
        queue.removeAll()
        queuedBytes = 0
        let schedule = claimSchedule()
        condition.unlock()
        if schedule { pool.schedule(self) }
    }

    /// Marks the writer scheduled when it is not yet; the caller then hands it to the pool.
    /// Called with the lock held.
    private func claimSchedule() -> Bool {
        guard !scheduled, !closed else { return false }
        scheduled = true
        return true
    }

    /// One turn on a pool thread: writes one queued buffer, or ends the file when all is written.
    /// Returns whether the writer has more to do (the pool then queues it again).
    func step() -> Bool {
        condition.lock()
        if queue.isEmpty {
            guard finishing else {
                scheduled = false
                condition.unlock()
                return false
            }
            let aborted = failure != nil
            let completion = self.completion
            self.completion = nil
            closed = true
            scheduled = false
            condition.unlock()
            // The final fsync may take seconds on a busy disk: it runs after the periodic ones,
            // off the pool's threads, so that other ingests keep being written meanwhile.
            let descriptor = self.descriptor
            syncs.async {
                let result: Result<Void, any Error>
                if aborted {
                    result = .failure(ViceError(.internal, "the ingest was cancelled"))
                } else if fsync(descriptor) != 0 {
                    result = .failure(ViceError(.internal, "fsync of the staging file failed: \(String(cString: strerror(errno)))"))
                } else {
                    result = .success(())
                }
                close(descriptor)
                completion?.resume(with: result)
            }
            return false
        }
        let buffer = queue.removeFirst()
        condition.unlock()

        let error = writeAll(buffer)
        sinceSync += buffer.byteCount
        if error == nil && sinceSync >= syncEvery {
            let descriptor = self.descriptor
            syncs.async { _ = fdatasync(descriptor) }
            sinceSync = 0
        }

        condition.lock()
        queuedBytes -= buffer.byteCount
        var resume: (CheckedContinuation<Void, any Error>, (any Error)?)?
        if let error {
            failure = failure ?? error
            queue.removeAll()
            queuedBytes = 0
            finishing = true
        }
        if let producer, failure != nil || queuedBytes <= window / 2 {
            resume = (producer, failure)
            self.producer = nil
        }
        let more = !queue.isEmpty || finishing
        if !more { scheduled = false }
        condition.unlock()
        if let (continuation, error) = resume {
            if let error { continuation.resume(throwing: error) } else { continuation.resume() }
        }
        return more
    }

    private func writeAll(_ buffer: any ByteChunk) -> ViceError? {
        do {
            try buffer.withUnsafeBytes { try writeFully(descriptor, $0) }
            return nil
        } catch {
            return ViceError(.internal, "writing the staging file failed: \(error)")
        }
    }
}

/// A fixed set of threads that serve every ingest's `IngestWriter` in turn: blocking writes
/// happen here (syncs beside them), never on Swift's cooperative pool, and a thousand ingests do not make a
/// thousand threads.
final class IngestWriterPool: @unchecked Sendable {
    static let shared = IngestWriterPool(threads: 4)

    private let condition = NSCondition()
    private var ready: [IngestWriter] = []
    let threads: Int

    init(threads: Int) {
        self.threads = max(1, threads)
        for index in 0..<self.threads {
            let thread = Thread { [self] in serve() }
            thread.name = "vice-staging-writer-\(index)"
            thread.start()
        }
    }

    func schedule(_ writer: IngestWriter) {
        condition.lock()
        ready.append(writer)
        condition.signal()
        condition.unlock()
    }

    private func serve() {
        while true {
            condition.lock()
            while ready.isEmpty { condition.wait() }
            let writer = ready.removeFirst()
            condition.unlock()
            if writer.step() { schedule(writer) }
        }
    }
}
