import Foundation

/// Does the work of jobs. `Registry` is the one implementation; the seam keeps `WorkerPool`
/// ignorant of what jobs mean.
public protocol JobHandler: Sendable {
    /// Performs the job. On success the handler has deleted the job in the same transaction that
    /// recorded the result. Throwing leaves the job to the pool's retry policy.
    func perform(_ job: Job) async throws
    /// Records a failed attempt: reschedules the job for `retryAt`, or (nil) gives up on it and
    /// marks its subject failed with the reason.
    func recordFailure(of job: Job, error: any Error, retryAt: Date?) async throws
}
