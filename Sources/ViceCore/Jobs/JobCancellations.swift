/// The running jobs of this process that a caller may cancel: a worker registers each claim it
/// runs, `cancel(jobID:)` stops it at once. Workers of other processes learn of a cancel when
/// they renew the job's lease (`LeaseRenewal.cancelRequested`).
///
/// Registrations are per claim (job id and fencing token): when a job whose lease ran out is
/// claimed again here while the first attempt still runs, a cancel stops both, and the first
/// attempt ending does not unregister the second.
package final class JobCancellations: Sendable {
    private let running = LockedBox<[String: [Int64: @Sendable () -> Void]]>([:])

    package init() {}

    /// Stops every attempt of the job running here; returns whether there was one.
    @discardableResult
    package func cancel(jobID: String) -> Bool {
        let stops = running.withLock { Array(($0[jobID] ?? [:]).values) }
        stops.forEach { $0() }
        return !stops.isEmpty
    }

    func register(_ jobID: String, token: Int64, stop: @escaping @Sendable () -> Void) {
        running.withLock { $0[jobID, default: [:]][token] = stop }
    }

    func unregister(_ jobID: String, token: Int64) {
        running.withLock { running in
            running[jobID]?.removeValue(forKey: token)
            if running[jobID]?.isEmpty == true { running.removeValue(forKey: jobID) }
        }
    }
}
