import Foundation

/// Where the registry keeps its records and jobs. Every use case runs its reads and writes in one
/// `read` or `write` transaction, so that a record and the job that works on it appear together
/// or not at all.
package protocol MetadataStore: Sendable {
    func read<T: Sendable>(_ body: @escaping @Sendable (any MetadataReader) throws -> T) async throws -> T
    func write<T: Sendable>(_ body: @escaping @Sendable (any MetadataWriter) throws -> T) async throws -> T
}

/// Queries inside a transaction. Lists with a `PageRequest` return up to `limit + 1` items, so the
/// caller can tell whether another page follows; an unknown marker throws `invalidInput`.
package protocol MetadataReader {
    func user(id: String) throws -> UserRecord?
    func user(username: String) throws -> UserRecord?
    func users() throws -> [UserRecord]
    func userCount() throws -> Int

    func environment(id: String) throws -> StoredEnvironment?
    /// `owner` nil: every user's (for admins).
    func environments(owner: String?, filter: EnvironmentFilter) throws -> [StoredEnvironment]

    func image(id: String) throws -> StoredImage?
    func images(owner: String?, query: ImageQuery) throws -> [StoredImage]
    /// How many images hold the blob with this checksum.
    func imageCount(checksum: String) throws -> Int

    func deployment(id: String) throws -> Deployment?
    func deployments(owner: String?, page: PageRequest) throws -> [Deployment]

    /// Newest first; `page.marker` is the id of the last entry of the previous page.
    func auditEntries(_ query: AuditQuery) throws -> [AuditEntry]

    func token(id: String) throws -> StoredToken?
    func tokens(userID: String) throws -> [StoredToken]

    func jobs(subjectID: String) throws -> [Job]
    func jobs(kind: JobKind) throws -> [Job]
    func pendingJobCount(queue: JobQueueName) throws -> Int
}

/// Changes inside a transaction. Inserting an id or username that exists throws `conflict`.
package protocol MetadataWriter: MetadataReader {
    func insertUser(_ user: UserRecord) throws
    func updateUser(_ user: UserRecord) throws
    func deleteUser(id: String) throws

    func insertEnvironment(_ environment: StoredEnvironment) throws
    func updateEnvironment(_ environment: StoredEnvironment) throws
    func deleteEnvironment(id: String) throws

    func insertImage(_ image: StoredImage) throws
    func updateImage(_ image: StoredImage) throws
    func deleteImage(id: String) throws

    func insertDeployment(_ deployment: Deployment) throws
    func updateDeployment(_ deployment: Deployment) throws
    func deleteDeployment(id: String) throws

    func insertAuditEntry(_ entry: AuditEntry) throws

    func insertToken(_ token: StoredToken) throws
    func deleteToken(id: String) throws

    func insertJob(_ job: Job) throws
    func updateJob(_ job: Job) throws
    func deleteJob(id: String) throws
}
