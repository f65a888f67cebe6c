package import Foundation

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

    /// The unfinished (pending or running) jobs of a subject, oldest first.
    func jobs(subjectID: String) throws -> [Job]
    /// The unfinished jobs of a kind, oldest first.
    func jobs(kind: JobKind) throws -> [Job]
    func pendingJobCount(queue: JobQueueName) throws -> Int
    /// How many jobs there are per queue, kind and state (finished ones until they are pruned).
    func jobCounts() throws -> [JobCount]
    /// How many images there are per status.
    func imageCounts() throws -> [String: Int]
    /// Any job, finished or not.
    func job(id: String) throws -> Job?
    /// Newest first; `query.page.marker` is the id of the last job of the previous page.
    func jobs(_ query: JobQuery) throws -> [Job]

    /// Events after `seq` (oldest first), of `ownerID` (nil: everyone's), at most `limit`.
    func events(after seq: Int64, ownerID: String?, limit: Int) throws -> [RegistryEvent]
    /// The newest event's `seq` (0 when there is none).
    func lastEventSeq() throws -> Int64

    func webhook(id: String) throws -> StoredWebhook?
    /// `owner` nil: every user's.
    func webhooks(owner: String?) throws -> [StoredWebhook]
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
    /// Writes the job's state, attempts, schedule, lease, error and end (not its progress).
    func updateJob(_ job: Job) throws
    /// Writes what a running job reports: its phase and bytes.
    func updateJobProgress(id: String, phase: String?, bytesDone: Int64?, bytesTotal: Int64?, at: Date) throws
    func deleteJob(id: String) throws
    /// Deletes jobs that ended before `date`; returns how many.
    func pruneJobs(finishedBefore date: Date) throws -> Int

    /// Records an event; returns its `seq`.
    @discardableResult
    func appendEvent(_ event: RegistryEvent) throws -> Int64
    /// Deletes events older than `date`; returns how many.
    func pruneEvents(before date: Date) throws -> Int

    func insertWebhook(_ webhook: StoredWebhook) throws
    func deleteWebhook(id: String) throws
}
