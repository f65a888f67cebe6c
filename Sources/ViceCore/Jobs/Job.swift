package import Foundation

/// The three queues of the seed's RuntimeStats.
package enum JobQueueName: String, Sendable, Hashable, Codable, CaseIterable {
    case `import`, export, store
}

/// What a job does to its subject.
package enum JobKind: String, Sendable, Hashable, Codable {
    /// Fetch an image from its origin environment (subject: image id).
    case importImage = "import-image"
    /// Put an image into an environment (subject: deployment id).
    case deploy
    /// Take a deployment out of its environment (subject: deployment id).
    case removeDeployment = "remove-deployment"
    /// Inspect staged bytes and commit them to the blob store (subject: image id).
    case storeImage = "store-image"

    package var queue: JobQueueName {
        switch self {
        case .importImage: .import
        case .deploy, .removeDeployment: .export
        case .storeImage: .store
        }
    }
}

package enum JobState: String, Sendable, Hashable, Codable {
    case pending, running
}

/// A durable unit of work. A job exists until its handler finishes it; a running job whose lease
/// runs out (its worker died) is claimed again.
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
    package var lastError: String?
    package var createdAt: Date
    /// What the job needs besides its subject, as JSON: written and read through `JobParameters`
    /// (`init(subjectID:parameters:maxAttempts:)`, `parameters(_:)`), never by hand.
    package var payload: String?

    package var queue: JobQueueName { kind.queue }

    package init(id: String = IDGenerator.make(), kind: JobKind, subjectID: String, state: JobState = .pending,
                attempts: Int = 0, maxAttempts: Int = 5, runAt: Date = Date(), leaseOwner: String? = nil,
                leaseExpires: Date? = nil, lastError: String? = nil, createdAt: Date = Date(), payload: String? = nil) {
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
    }
}

/// Claims and leases of durable jobs.
package protocol JobQueue: Sendable {
    /// Takes the oldest due job of `queue` (pending, or running with an expired lease), marks it
    /// running under `owner` until `now + lease`, and counts the attempt.
    func claim(queue: JobQueueName, owner: String, lease: TimeInterval, now: Date) async throws -> Job?
    /// Extends a lease; false when the job is gone or claimed by someone else.
    func renewLease(jobID: String, owner: String, until: Date) async throws -> Bool
    /// Gives a claimed job back unharmed (shutdown): pending again, the attempt not counted.
    func release(jobID: String, owner: String) async throws
    /// At start-up: every job left running by a process that died is pending again.
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
    package init<P: JobParameters>(subjectID: String, parameters: P, maxAttempts: Int) throws {
        self.init(kind: P.kind, subjectID: subjectID, maxAttempts: maxAttempts,
                  payload: String(decoding: try JSONEncoder().encode(parameters), as: UTF8.self))
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
