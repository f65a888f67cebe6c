package import Foundation

/// The three queues of the seed's RuntimeStats.
package enum JobQueueName: String, Sendable, Hashable, Codable, CaseIterable {
    case `import`, export, store
    /// Webhook deliveries (not one of the seed's queues: `RuntimeStats` does not show it).
    case webhook
}

/// What a job does to its subject.
package enum JobKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Fetch an image from its origin environment (subject: image id).
    case importImage = "import-image"
    /// Put an image into an environment (subject: deployment id).
    case deploy
    /// Take a deployment out of its environment (subject: deployment id).
    case removeDeployment = "remove-deployment"
    /// Inspect staged bytes and commit them to the blob store (subject: image id).
    case storeImage = "store-image"
    /// POST one event to a webhook (subject: webhook id).
    case deliverWebhook = "deliver-webhook"

    package var queue: JobQueueName {
        switch self {
        case .importImage: .import
        case .deploy, .removeDeployment: .export
        case .storeImage: .store
        case .deliverWebhook: .webhook
        }
    }
}

/// Where a job is in its life. Jobs are kept after they end (for `GET /v1/jobs` and retries)
/// until the retention period is over.
package enum JobState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Waiting to be claimed (the API calls it `queued`).
    case pending
    case running
    case succeeded
    case failed
    case cancelled

    /// Whether the job is over: it is never claimed again unless retried.
    package var isFinished: Bool {
        switch self {
        case .pending, .running: false
        case .succeeded, .failed, .cancelled: true
        }
    }
}

/// Whether the error that ended an attempt could go away by itself.
package enum JobErrorKind: String, Sendable, Hashable, Codable {
    case transient, permanent
}

/// A durable unit of work. A running job whose lease runs out (its worker died) is claimed again;
/// a job that ended (succeeded, failed, cancelled) is kept for callers to read until the
/// retention period is over. Its state changes only through `JobLifecycle`.
package struct Job: Sendable, Hashable {
    package var id: String
    package var kind: JobKind
    package var subjectID: String
    package var state: JobState
    /// Claims so far, this one included.
    package var attempts: Int
    package var maxAttempts: Int
    /// Not before this time (retries back off).
    package var runAt: Date
    package var leaseOwner: String?
    package var leaseExpires: Date?
    /// The fencing token of the current claim: every claim makes a larger one, and a worker's
    /// writes about its job carry the token it was given, so a worker whose lease ran out (paused,
    /// cut off) cannot overwrite what the worker that took over records.
    package var leaseToken: Int64 = 0
    package var lastError: String?
    /// Whether `lastError` was thought transient (retried) or permanent.
    package var errorKind: JobErrorKind?
    package var createdAt: Date
    /// The owner of the job's subject: whose job it is in `GET /v1/jobs`.
    package var ownerID: String?
    /// What the running job is doing (`JobPhase`), and the bytes it has moved of how many.
    package var phase: String?
    package var bytesDone: Int64?
    package var bytesTotal: Int64?
    /// When the current (or last) attempt was claimed, and when the job ended.
    package var startedAt: Date?
    package var finishedAt: Date?
    package var updatedAt: Date?
    /// A caller asked to cancel the running job; the worker running it stops it.
    package var cancelRequested: Bool
    /// What the job needs besides its subject, as JSON: written and read through `JobParameters`
    /// (`init(subjectID:parameters:maxAttempts:)`, `parameters(_:)`), never by hand.
    package var payload: String?

    package var queue: JobQueueName { kind.queue }

    package init(id: String = IDGenerator.make(), kind: JobKind, subjectID: String, state: JobState = .pending,
                attempts: Int = 0, maxAttempts: Int = 5, runAt: Date = Date(), leaseOwner: String? = nil,
                leaseExpires: Date? = nil, lastError: String? = nil, createdAt: Date = Date(), payload: String? = nil,
                ownerID: String? = nil) {
        self.id = id
        self.kind = kind
        self.subjectID = subjectID
        self.state = state
        self.attempts = attempts
        self.maxAttempts = maxAttempts
        self.runAt = runAt
        self.leaseOwner = leaseOwner
        self.leaseExpires = leaseExpires
        self.lastError = lastError
        self.createdAt = createdAt
        self.payload = payload
        self.ownerID = ownerID
        self.updatedAt = createdAt
        self.cancelRequested = false
    }

    /// The image the job works on, if it works on one.
    package var imageID: String? {
        kind == .importImage || kind == .storeImage ? subjectID : nil
    }

    /// The deployment the job works on, if it works on one.
    package var deploymentID: String? {
        kind == .deploy || kind == .removeDeployment ? subjectID : nil
    }

    /// What the job works on, in words: "image", "deployment" or "webhook".
    package var subjectNoun: String {
        imageID != nil ? "image" : deploymentID != nil ? "deployment" : "webhook"
    }

    /// Whether the last attempt deferred the job (it waits for something, without an error, and
    /// `lastError` says what for).
    package var wasDeferred: Bool {
        !state.isFinished && errorKind == nil && lastError != nil
    }

    /// The webhook the job delivers to, if it delivers.
    package var webhookID: String? {
        kind == .deliverWebhook ? subjectID : nil
    }
}

/// What a running job can be doing. Adapters report theirs through `ProgressReporter`; any
/// other text is kept as it is.
public struct JobPhase: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// Fetching the image from its origin.
    public static let downloading = JobPhase("downloading")
    /// Checking bytes (digests, the disk inspector) before they count.
    public static let verifying = JobPhase("verifying")
    /// Committing checked bytes to the blob store.
    public static let storing = JobPhase("storing")
    /// Converting a disk to the format the target takes.
    public static let converting = JobPhase("converting")
    /// Sending the image to the target environment.
    public static let uploading = JobPhase("uploading")
    /// The target has the bytes and is still processing them (Glance activating, a satellite
    /// checking blocks).
    public static let waitingForTarget = JobPhase("waiting-for-target")
    /// Waiting for the image's bytes to arrive before deploying.
    public static let waitingForImage = JobPhase("waiting-for-image")
    /// Taking a deployment out of its environment.
    public static let removing = JobPhase("removing")
}

/// A worker wrote about a job it no longer holds: its lease ran out and another claim (with a
/// larger fencing token) took the job over. Nothing was written; the other worker's result stands.
package struct StaleLease: Error, Sendable, CustomStringConvertible {
    package var jobID: String
    package var token: Int64
    package var description: String { "job \(jobID) was claimed again after this worker's lease (token \(token)) ran out" }
}

/// How the state of leased job stands when its worker renews the lease.
package enum LeaseRenewal: Sendable, Hashable {
    /// Renewed: keep working.
    case kept
    /// The job is gone or another worker holds it.
    case lost
    /// Renewed, but a caller asked to cancel the job: stop it.
    case cancelRequested
}

/// Claims and leases of durable jobs.
package protocol JobQueue: Sendable {
    /// Takes the oldest due job of `queue` (pending, or running with an expired lease), marks it
    /// running under `owner` until `now + lease`, and counts the attempt.
    func claim(queue: JobQueueName, owner: String, lease: TimeInterval, now: Date) async throws -> Job?
    /// Extends the lease of the claim `token`, and says whether the job was lost meanwhile (claimed
    /// again, gone) or is to be cancelled.
    func renewLease(jobID: String, owner: String, token: Int64, until: Date) async throws -> LeaseRenewal
    /// Gives a claimed job back unharmed (shutdown): pending again, the attempt not counted.
    func release(jobID: String, owner: String, token: Int64) async throws
    /// At start-up: every job left running by a process that died is pending again — in a store
    /// only this process uses. A store several nodes share leaves running jobs to their leases
    /// (another node may be running them) and answers 0.
    func requeueAbandoned() async throws -> Int
}

/// What a job of one kind needs besides its subject, kept as JSON with the job. The kind and the
/// parameters' type are tied together, so a job is made and read back with the same type.
package protocol JobParameters: Codable, Sendable {
    static var kind: JobKind { get }
}

/// A job's parameters could not be read (written by another version, or damaged).
package struct JobParametersUnreadable: Error, Sendable, CustomStringConvertible {
    package var kind: JobKind
    package var cause: (any Error & Sendable)?
    package var description: String {
        "the \(kind.rawValue) job's parameters cannot be read" + (cause.map { ": \($0)" } ?? "")
    }
}

extension Job {
    /// A job of `P.kind` with `parameters`.
    package init<P: JobParameters>(subjectID: String, parameters: P, maxAttempts: Int, ownerID: String? = nil) throws {
        self.init(kind: P.kind, subjectID: subjectID, maxAttempts: maxAttempts,
                  payload: String(decoding: try JSONEncoder().encode(parameters), as: UTF8.self), ownerID: ownerID)
    }

    /// The job's parameters as `P`; throws when the job is of another kind or they cannot be read.
    package func parameters<P: JobParameters>(_ type: P.Type = P.self) throws -> P {
        guard kind == P.kind, let payload else { throw JobParametersUnreadable(kind: kind, cause: nil) }
        do {
            return try JSONDecoder().decode(P.self, from: Data(payload.utf8))
        } catch {
            throw JobParametersUnreadable(kind: kind, cause: error)
        }
    }
}
