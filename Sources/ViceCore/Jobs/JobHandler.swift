import Foundation

/// Does the work of jobs. `Registry` is the one implementation; the seam keeps `WorkerPool`
/// ignorant of what jobs mean.
package protocol JobHandler: Sendable {
    /// Performs the job. On success the handler has deleted the job in the same transaction that
    /// recorded the result. Throwing leaves the job to the pool, which asks `JobLifecycle`.
    func perform(_ job: Job) async throws
    /// Persists the decision on a failed attempt: `job` as it is to be stored for a retry (or to
    /// be deleted when the decision gives up), and the note or failure on its subject.
    func recordFailure(of job: Job, decision: JobLifecycle.Decision) async throws
}
