import Foundation

/// Does the work of jobs. `Registry` is the one implementation; the seam keeps `WorkerPool`
/// ignorant of what jobs mean.
package protocol JobHandler: Sendable {
    /// Performs the job. On success the handler has ended the job (succeeded) in the same
    /// transaction that recorded the result. Throwing leaves the job to the pool, which asks
    /// `JobLifecycle`.
    func perform(_ job: Job) async throws
    /// Persists the decision on a failed attempt: `job` as it is to be stored for a retry (or to
    /// end as failed when the decision gives up), and the note or failure on its subject.
    func recordFailure(of job: Job, decision: JobLifecycle.Decision) async throws
    /// A caller cancelled the running job and its work stopped: ends it cancelled, marks its
    /// subject, and removes what the stopped work left half-made.
    func recordCancellation(of job: Job) async throws
}
