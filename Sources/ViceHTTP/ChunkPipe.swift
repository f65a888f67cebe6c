import Foundation

/// A bounded queue of byte chunks between a curl transfer thread and Swift tasks. Either side can
/// block (the transfer thread, which is ours) or suspend (a task); at most `limit` bytes wait, so
/// a slow side slows the other down instead of filling memory.
final class ChunkPipe: @unchecked Sendable {
    private let condition = NSCondition()
    private var chunks: [[UInt8]] = []
    private var head = 0
    private var buffered = 0
    /// The most bytes that ever waited at once (for the tests of the bound).
    private var peakBuffered = 0
    private var ended = false
    private var failure: (any Error)?
    private var cancelled = false
    private var takers: [CheckedContinuation<Void, Never>] = []
    private var putters: [CheckedContinuation<Void, Never>] = []
    let limit: Int

    init(limit: Int = 4 << 20) {
        self.limit = limit
    }

    // MARK: producer side

    /// Adds a chunk from a thread, blocking while the pipe is full. False once the pipe is cancelled.
    func putBlocking(_ chunk: [UInt8]) -> Bool {
        condition.lock()
        while buffered >= limit && !cancelled { condition.wait() }
        guard !cancelled else {
            condition.unlock()
            return false
        }
        append(chunk)
        let waiting = takeWaiters()
        condition.unlock()
        waiting.forEach { $0.resume() }
        return true
    }

    /// Adds a chunk from a task, suspending while the pipe is full. False once the pipe is cancelled.
    func put(_ chunk: [UInt8]) async -> Bool {
        while true {
            if let done = tryPut(chunk) { return done }
            await withCheckedContinuation { continuation in
                if !waitToPut(continuation) { continuation.resume() }
            }
        }
    }

    private func tryPut(_ chunk: [UInt8]) -> Bool? {
        condition.lock()
        if cancelled {
            condition.unlock()
            return false
        }
        guard buffered < limit else {
            condition.unlock()
            return nil
        }
        append(chunk)
        let waiting = takeWaiters()
        condition.unlock()
        waiting.forEach { $0.resume() }
        return true
    }

    /// Parks a putter unless there is room (or the pipe ended) by now; false means "go on at once".
    private func waitToPut(_ continuation: CheckedContinuation<Void, Never>) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard buffered >= limit && !cancelled && !ended else { return false }
        putters.append(continuation)
        return true
    }

    /// No more chunks; a consumer gets `error` (if any) after the queued ones.
    func finish(_ error: (any Error)? = nil) {
        condition.lock()
        ended = true
        failure = failure ?? error
        let waiting = takeWaiters() + releasePutters()
        condition.broadcast()
        condition.unlock()
        waiting.forEach { $0.resume() }
    }

    /// The consumer is gone: producers stop.
    func cancel() {
        condition.lock()
        cancelled = true
        chunks.removeAll()
        head = 0
        buffered = 0
        let waiting = takeWaiters() + releasePutters()
        condition.broadcast()
        condition.unlock()
        waiting.forEach { $0.resume() }
    }

    // MARK: consumer side

    /// The next chunk on a thread, blocking until one arrives; nil at the end.
    func takeBlocking() throws -> [UInt8]? {
        condition.lock()
        while head == chunks.count && !ended && !cancelled { condition.wait() }
        let result = Result { try removeFirst() }
        let waiting = releasePutters()
        condition.unlock()
        waiting.forEach { $0.resume() }
        return try result.get()
    }

    /// The next chunk in a task; nil at the end.
    func take() async throws -> [UInt8]? {
        while true {
            if let result = tryTake() { return try result.get() }
            await withCheckedContinuation { continuation in
                if !waitToTake(continuation) { continuation.resume() }
            }
        }
    }

    private func tryTake() -> Result<[UInt8]?, any Error>? {
        condition.lock()
        guard head < chunks.count || ended || cancelled else {
            condition.unlock()
            return nil
        }
        let result = Result { try removeFirst() }
        let waiting = releasePutters()
        condition.unlock()
        waiting.forEach { $0.resume() }
        return result
    }

    private func waitToTake(_ continuation: CheckedContinuation<Void, Never>) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard head == chunks.count && !ended && !cancelled else { return false }
        takers.append(continuation)
        return true
    }

    // MARK: under the lock

    private func append(_ chunk: [UInt8]) {
        chunks.append(chunk)
        buffered += chunk.count
        peakBuffered = max(peakBuffered, buffered)
        condition.broadcast()
    }

    /// The most bytes that ever waited in the pipe: at most `limit` plus one chunk.
    var peak: Int {
        condition.lock()
        defer { condition.unlock() }
        return peakBuffered
    }

    private func removeFirst() throws -> [UInt8]? {
        if cancelled { throw HTTPClientError(.cancelled, "the transfer was cancelled") }
        guard head < chunks.count else {
            if let failure, ended { throw failure }
            return nil
        }
        let chunk = chunks[head]
        head += 1
        buffered -= chunk.count
        if head > 64 && head * 2 > chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return chunk
    }

    private func takeWaiters() -> [CheckedContinuation<Void, Never>] {
        defer { takers.removeAll() }
        return takers
    }

    private func releasePutters() -> [CheckedContinuation<Void, Never>] {
        guard buffered < limit || ended || cancelled else { return [] }
        defer { putters.removeAll() }
        return putters
    }
}
