public import Foundation

/// Added to the seed: a job as `GET /v1/jobs/{id}` answers it — what it does, where it is, the
/// bytes it moved, its attempts and its last error.
public struct JobInfo: Sendable, Hashable, Codable {
    /// The error that ended the last attempt.
    public struct Failure: Sendable, Hashable, Codable {
        /// `transient` (it was, or would have been, retried) or `permanent`.
        public var kind: String
        public var message: String
    }

    public var id: String
    /// `import-image`, `store-image`, `deploy`, `remove-deployment`, `deliver-webhook`.
    public var kind: String
    /// `queued`, `running`, `succeeded`, `failed`, `cancelled`.
    public var state: String
    /// What a running job does now (`downloading`, `verifying`, `storing`, `converting`,
    /// `uploading`, `waiting-for-target`, `waiting-for-image`, `removing`), or did last.
    public var phase: String?
    public var bytesDone: Int64?
    public var bytesTotal: Int64?
    public var attempts: Int
    public var maxAttempts: Int
    /// When a queued job runs (again): the next retry after a failed attempt.
    public var nextAttemptAt: Date?
    public var error: Failure?
    /// Why a job ended without an error (cancelled: by whom or why).
    public var note: String?
    public var cancelRequested: Bool
    public var imageId: String?
    public var deploymentId: String?
    public var webhookId: String?
    public var userid: String?
    public var createdAt: Date
    public var startedAt: Date?
    public var updatedAt: Date?
    public var finishedAt: Date?
}

extension JobInfo {
    package init(_ job: Job) {
        id = job.id
        kind = job.kind.rawValue
        state = job.state == .pending ? "queued" : job.state.rawValue
        phase = job.phase
        bytesDone = job.bytesDone
        bytesTotal = job.bytesTotal
        attempts = job.attempts
        maxAttempts = job.maxAttempts
        nextAttemptAt = job.state == .pending ? job.runAt : nil
        error = job.errorKind.flatMap { kind in job.lastError.map { Failure(kind: kind.rawValue, message: $0) } }
        note = job.errorKind == nil ? job.lastError : nil
        cancelRequested = job.cancelRequested
        imageId = job.imageID
        deploymentId = job.deploymentID
        webhookId = job.webhookID
        userid = job.ownerID
        createdAt = job.createdAt
        startedAt = job.startedAt
        updatedAt = job.updatedAt
        finishedAt = job.finishedAt
    }
}

extension JobState {
    /// The name the API uses (`pending` is `queued`).
    package var apiName: String { self == .pending ? "queued" : rawValue }

    /// The state as the API names it (`pending` is `queued`).
    package init?(apiName: String) {
        if apiName == "queued" { self = .pending } else if apiName != "pending", let state = JobState(rawValue: apiName) { self = state } else { return nil }
    }
}
