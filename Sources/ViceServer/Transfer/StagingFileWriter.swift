import Foundation
import Hummingbird
import ViceCore

#if canImport(Glibc)
import Glibc
#endif

/// Writes an upload to its staging file on a thread of its own, so that receiving (the event
/// loop), hashing (the request's task) and writing (this thread) overlap instead of taking turns.
/// At most `window` bytes wait in memory; a producer that gets ahead waits (back-pressure).
/// Written data is pushed towards the disk as it goes (`fdatasync` every `syncEvery` bytes), so the
/// final `fsync` that makes the upload durable has little left to do.
final class StagingFileWriter: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [ByteBuffer] = []
    private var queuedBytes = 0
    private var finishing = false
    private var failure: ViceError?
    private var producer: CheckedContinuation<Void, any Error>?
    private var completion: CheckedContinuation<Void, any Error>?
    private var done = false
    private let descriptor: Int32
    private let window: Int
    private let syncEvery: Int

    init(path: String, window: Int = 8 << 20, syncEvery: Int = 64 << 20) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ViceError(.internal, "cannot create the staging file: \(String(cString: strerror(errno)))")
        }
        self.window = window
        self.syncEvery = syncEvery
        let thread = Thread { [self] in run() }
        thread.name = "vice-staging-writer"
        thread.start()
    }

    /// Queues a chunk; waits while the window is full.
    func write(_ buffer: ByteBuffer) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            condition.lock()
            defer { condition.unlock() }
            if let failure {
                continuation.resume(throwing: failure)
                return
            }
            queue.append(buffer)
            queuedBytes += buffer.readableBytes
            condition.signal()
            if queuedBytes > window {
                producer = continuation  // resumed once the writer has drained half the window
            } else {
                continuation.resume()
            }
        }
    }

    /// Writes what is queued, fsyncs and closes the file.
    func finish() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            condition.lock()
            defer { condition.unlock() }
            if let failure {
                continuation.resume(throwing: failure)
                return
            }
            finishing = true
            completion = continuation
            condition.signal()
        }
    }

    /// Stops writing. The file itself goes with the upload's ticket (`Registry.abortUpload`).
    func abort() {
        condition.lock()
        failure = failure ?? ViceError(.internal, "the upload was aborted")
        finishing = true
        queue.removeAll()
        condition.signal()
        condition.unlock()
    }

    private func run() {
        var sinceSync = 0
        while true {
            condition.lock()
            while queue.isEmpty && !finishing { condition.wait() }
            if queue.isEmpty && finishing {
                let aborted = failure != nil
                let completion = self.completion
                self.completion = nil
                condition.unlock()
                let result: Result<Void, any Error>
                if aborted {
                    result = .failure(ViceError(.internal, "the upload was aborted"))
                } else if fsync(descriptor) != 0 {
                    result = .failure(ViceError(.internal, "fsync of the staging file failed: \(String(cString: strerror(errno)))"))
                } else {
                    result = .success(())
                }
                close(descriptor)
                completion?.resume(with: result)
                return
            }
            let buffer = queue.removeFirst()
            condition.unlock()

            let error = writeAll(buffer)
            sinceSync += buffer.readableBytes
            if error == nil && sinceSync >= syncEvery {
                fdatasync(descriptor)
                sinceSync = 0
            }

            condition.lock()
            queuedBytes -= buffer.readableBytes
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
            condition.unlock()
            if let (continuation, error) = resume {
                if let error { continuation.resume(throwing: error) } else { continuation.resume() }
            }
        }
    }

    private func writeAll(_ buffer: ByteBuffer) -> ViceError? {
        do {
            try buffer.withUnsafeReadableBytes { try writeFully(descriptor, $0) }
            return nil
        } catch {
            return ViceError(.internal, "writing the staging file failed: \(error)")
        }
    }
}
