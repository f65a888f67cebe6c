/// The running jobs of this process that a caller may cancel: a worker registers each job it
/// runs, `cancel(jobID:)` stops it at once. Workers of other processes learn of a cancel when
/// they renew the job's lease (`LeaseRenewal.cancelRequested`).
package final class JobCancellations: Sendable {
    private let running = LockedBox<[String: @Sendable () -> Void]>([:])

    package init() {}

    /// Stops the job if it runs here; returns whether it did.
    @discardableResult
    package func cancel(jobID: String) -> Bool {
        guard let stop = running.withLock({ $0[jobID] }) else { return false }
        stop()
        return true
    }

    func register(_ jobID: String, stop: @escaping @Sendable () -> Void) {
        running.withLock { $0[jobID] = stop }
    }

    func unregister(_ jobID: String) {
        running.withLock { _ = $0.removeValue(forKey: jobID) }
    }
}
