import Hummingbird
import ViceCore

extension ViceAPI {
    /// `GET /v1/jobs?state=&kind=&imageId=&deploymentId=&webhookId=&limit=&marker=`.
    func findJobs(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let query = Query(request: request)
        var states: Set<JobState> = []
        for name in (query.string("state") ?? "").split(separator: ",") {
            guard let state = JobState(apiName: String(name)) else {
                throw ViceError.invalidInput("state must be one of: queued, running, succeeded, failed, cancelled")
            }
            states.insert(state)
        }
        let subjects = ["imageId", "deploymentId", "webhookId"].compactMap { query.string($0) }
        guard subjects.count <= 1 else { throw ViceError.invalidInput("give at most one of imageId, deploymentId, webhookId") }
        let jobs = JobQuery(states: states, kind: try query.enumValue("kind", JobKind.self), subjectID: subjects.first,
                            page: try query.page())
        let page = try await registry.jobs(jobs, owner: try context.requirePrincipal())
        return try JSONBody.response(page.items, headers: page.headers(for: request))
    }

    var getJob: Handler {
        identified(by: "jobId", kind: "job") { try await registry.job(id: $0, owner: $1) }
    }

    /// `DELETE /v1/jobs/{jobId}`: 200 with the job when it is cancelled, 202 while a running
    /// one is being stopped.
    func cancelJob(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let id = try Self.pathID("jobId", context, kind: "job")
        let job = try await registry.cancelJob(id: id, owner: try context.requirePrincipal())
        return try JSONBody.response(job, status: job.state == "cancelled" ? .ok : .accepted)
    }

    /// `POST /v1/jobs/{jobId}/retry`: 202 with the job queued again.
    func retryJob(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let id = try Self.pathID("jobId", context, kind: "job")
        return try JSONBody.response(try await registry.retryJob(id: id, owner: try context.requirePrincipal()), status: .accepted)
    }
}
