import Foundation

/// The metadata store as the registry uses it: every write transaction that changes an image's or
/// a deployment's status, or a job's state, records an event in the same transaction (so an
/// event exists exactly when its change does), queues a delivery for each webhook of the owner
/// that asked for the kind, and — once committed — wakes whoever waits for events.
final class EventedStore: MetadataStore {
    let base: any MetadataStore
    let signal: JobSignal
    /// Wakes the webhook workers when a transaction queued deliveries.
    let deliveriesQueued: @Sendable () -> Void

    init(_ base: any MetadataStore, signal: JobSignal, deliveriesQueued: @escaping @Sendable () -> Void) {
        self.base = base
        self.signal = signal
        self.deliveriesQueued = deliveriesQueued
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any MetadataReader) throws -> T) async throws -> T {
        try await base.read(body)
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (any MetadataWriter) throws -> T) async throws -> T {
        let outcome = LockedBox(EventedWriter.Outcome())
        let result = try await base.write { tx in
            let writer = EventedWriter(tx)
            let result = try body(writer)
            outcome.withLock { $0 = writer.outcome }
            return result
        }
        let (events, deliveries) = outcome.withLock { ($0.events, $0.deliveries) }
        if events { signal.notify() }
        if deliveries { deliveriesQueued() }
        return result
    }
}

/// A write transaction that records the events of the changes made through it.
final class EventedWriter: MetadataWriter {
    struct Outcome: Sendable {
        var events = false
        var deliveries = false
    }

    private let tx: any MetadataWriter
    private(set) var outcome = Outcome()

    init(_ tx: any MetadataWriter) {
        self.tx = tx
    }

    // MARK: what records events

    func insertImage(_ image: StoredImage) throws {
        try tx.insertImage(image)
        try record(.imageStatus, owner: image.userid, subject: image.id, data: image.image.eventData)
    }

    func updateImage(_ image: StoredImage) throws {
        let before = try tx.image(id: image.id)?.image
        try tx.updateImage(image)
        if before?.status != image.image.status || before?.statusMessage != image.image.statusMessage || before?.jobId != image.image.jobId {
            try record(.imageStatus, owner: image.userid, subject: image.id, data: image.image.eventData)
        }
    }

    func deleteImage(id: String) throws {
        let before = try tx.image(id: id)
        try tx.deleteImage(id: id)
        if let before {
            try record(.imageStatus, owner: before.userid, subject: id, data: before.image.eventData(status: "deleted"))
        }
    }

    func insertDeployment(_ deployment: Deployment) throws {
        try tx.insertDeployment(deployment)
        try record(.deploymentStatus, owner: deployment.userid, subject: deployment.id ?? "", data: deployment.eventData)
    }

    func updateDeployment(_ deployment: Deployment) throws {
        let before = try tx.deployment(id: deployment.id ?? "")
        try tx.updateDeployment(deployment)
        if before?.status != deployment.status || before?.statusMessage != deployment.statusMessage
            || before?.environmentReference != deployment.environmentReference || before?.jobId != deployment.jobId {
            try record(.deploymentStatus, owner: deployment.userid, subject: deployment.id ?? "", data: deployment.eventData)
        }
    }

    func deleteDeployment(id: String) throws {
        let before = try tx.deployment(id: id)
        try tx.deleteDeployment(id: id)
        if let before {
            try record(.deploymentStatus, owner: before.userid, subject: id, data: before.eventData(status: "deleted"))
        }
    }

    func insertJob(_ job: Job) throws {
        try tx.insertJob(job)
        try recordState(of: job)
    }

    func updateJob(_ job: Job) throws {
        let before = try tx.job(id: job.id)
        try tx.updateJob(job)
        // A deferral is told once; the same deferral again is no news (see `perform`).
        if job.wasDeferred && before?.lastError == job.lastError { return }
        if before?.state != job.state || before?.attempts != job.attempts || before?.cancelRequested != job.cancelRequested {
            try recordState(of: job)
        }
    }

    func appendEvent(_ event: RegistryEvent) throws -> Int64 {
        let seq = try tx.appendEvent(event)
        outcome.events = true
        guard let owner = event.ownerID else { return seq }
        for hook in try tx.webhooks(owner: owner) where hook.webhook.eventKinds.contains(event.kind) {
            var delivered = event
            delivered.seq = seq
            // Inserted past the recording: a delivery is no event of its own.
            try tx.insertJob(try Job(subjectID: hook.id, parameters: DeliveryParameters(delivered), maxAttempts: DeliveryParameters.attempts,
                                     ownerID: owner))
            outcome.deliveries = true
        }
        return seq
    }

    private func recordState(of job: Job) throws {
        // Deliveries are how events leave; an event per delivery would feed itself.
        guard job.kind != .deliverWebhook else { return }
        try record(.jobState, owner: job.ownerID, subject: job.id, data: JobInfo(job).eventData)
    }

    private func record(_ kind: EventKind, owner: String?, subject: String, data: JSONValue) throws {
        _ = try appendEvent(RegistryEvent(kind: kind, ownerID: owner, subjectID: subject, data: data))
    }

    // MARK: passed through

    func user(id: String) throws -> UserRecord? { try tx.user(id: id) }
    func user(username: String) throws -> UserRecord? { try tx.user(username: username) }
    func users() throws -> [UserRecord] { try tx.users() }
    func userCount() throws -> Int { try tx.userCount() }
    func environment(id: String) throws -> StoredEnvironment? { try tx.environment(id: id) }
    func environments(owner: String?, filter: EnvironmentFilter) throws -> [StoredEnvironment] { try tx.environments(owner: owner, filter: filter) }
    func image(id: String) throws -> StoredImage? { try tx.image(id: id) }
    func images(owner: String?, query: ImageQuery) throws -> [StoredImage] { try tx.images(owner: owner, query: query) }
    func imageCount(checksum: String) throws -> Int { try tx.imageCount(checksum: checksum) }
    func deployment(id: String) throws -> Deployment? { try tx.deployment(id: id) }
    func deployments(owner: String?, page: PageRequest) throws -> [Deployment] { try tx.deployments(owner: owner, page: page) }
    func auditEntries(_ query: AuditQuery) throws -> [AuditEntry] { try tx.auditEntries(query) }
    func token(id: String) throws -> StoredToken? { try tx.token(id: id) }
    func tokens(userID: String) throws -> [StoredToken] { try tx.tokens(userID: userID) }
    func jobs(subjectID: String) throws -> [Job] { try tx.jobs(subjectID: subjectID) }
    func jobs(kind: JobKind) throws -> [Job] { try tx.jobs(kind: kind) }
    func pendingJobCount(queue: JobQueueName) throws -> Int { try tx.pendingJobCount(queue: queue) }
    func jobCounts() throws -> [JobCount] { try tx.jobCounts() }
    func imageCounts() throws -> [String: Int] { try tx.imageCounts() }
    func job(id: String) throws -> Job? { try tx.job(id: id) }
    func jobs(_ query: JobQuery) throws -> [Job] { try tx.jobs(query) }
    func events(after seq: Int64, ownerID: String?, limit: Int) throws -> [RegistryEvent] { try tx.events(after: seq, ownerID: ownerID, limit: limit) }
    func lastEventSeq() throws -> Int64 { try tx.lastEventSeq() }
    func webhook(id: String) throws -> StoredWebhook? { try tx.webhook(id: id) }
    func webhooks(owner: String?) throws -> [StoredWebhook] { try tx.webhooks(owner: owner) }
    func insertUser(_ user: UserRecord) throws { try tx.insertUser(user) }
    func updateUser(_ user: UserRecord) throws { try tx.updateUser(user) }
    func deleteUser(id: String) throws { try tx.deleteUser(id: id) }
    func insertEnvironment(_ environment: StoredEnvironment) throws { try tx.insertEnvironment(environment) }
    func updateEnvironment(_ environment: StoredEnvironment) throws { try tx.updateEnvironment(environment) }
    func deleteEnvironment(id: String) throws { try tx.deleteEnvironment(id: id) }
    func insertAuditEntry(_ entry: AuditEntry) throws { try tx.insertAuditEntry(entry) }
    func insertToken(_ token: StoredToken) throws { try tx.insertToken(token) }
    func deleteToken(id: String) throws { try tx.deleteToken(id: id) }
    func updateJobProgress(id: String, phase: String?, bytesDone: Int64?, bytesTotal: Int64?, at: Date) throws {
        try tx.updateJobProgress(id: id, phase: phase, bytesDone: bytesDone, bytesTotal: bytesTotal, at: at)
    }
    func deleteJob(id: String) throws { try tx.deleteJob(id: id) }
    func pruneJobs(finishedBefore date: Date) throws -> Int { try tx.pruneJobs(finishedBefore: date) }
    func pruneEvents(before date: Date) throws -> Int { try tx.pruneEvents(before: date) }
    func insertWebhook(_ webhook: StoredWebhook) throws { try tx.insertWebhook(webhook) }
    func deleteWebhook(id: String) throws { try tx.deleteWebhook(id: id) }
}
