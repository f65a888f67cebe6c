import ArgumentParser
import Foundation
import Logging
import ViceConfig
import ViceCore
import ViceS3
import VicePostgres
import ViceStorage

/// `vice migrate --from OLD --to NEW`: copies an installation — every record, job, event and
/// blob — from the stores one configuration names to those of another (SQLite + files to
/// PostgreSQL + S3, typically). Each blob is streamed into the target and committed only when its
/// digest matches; every image's blob is checked to be there at the end. The target must be empty.
/// Run it with the registry stopped; both configurations must use the same credential key file.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy an installation (records, jobs, events, blobs) to the stores of another configuration.")

    @Option(help: "The configuration of the installation to copy.")
    var from: String

    @Option(help: "The configuration of the (empty) installation to copy it into.")
    var to: String

    func run() async throws {
        let source: ViceConfiguration, target: ViceConfiguration
        do {
            source = try RegistryAssembly.loadConfiguration(from)
            target = try RegistryAssembly.loadConfiguration(to)
        } catch let error as ExitCodeError {
            throw ExitCode(error.code)
        }
        var logger = Logger(label: "vice.migrate")
        logger.logLevel = .warning
        let old = try await RegistryAssembly.openStores(source, logger: logger)
        let new = try await RegistryAssembly.openStores(target, logger: logger)
        defer { old.shared?.shutdown(); new.shared?.shutdown() }

        let empty = try await new.store.read { tx in
            try tx.userCount() == 0 && tx.images(owner: nil, query: ImageQuery(page: PageRequest(limit: 1))).isEmpty
        }
        guard empty else {
            printError("the target installation (\(to)) is not empty: migrate copies into an empty one only")
            throw ExitCode(2)
        }

        // Records, in their creation order (lists that come newest first are turned around).
        let copied = try await old.store.read { tx -> Counts in
            let users = try tx.users()
            var tokens: [StoredToken] = []
            for user in users { tokens += try tx.tokens(userID: user.id) }
            let environments = try tx.environments(owner: nil, filter: EnvironmentFilter())
            let images = try tx.images(owner: nil, query: ImageQuery())
            let deployments = try tx.deployments(owner: nil, page: PageRequest())
            let audit: [AuditEntry] = Array(try tx.auditEntries(AuditQuery()).reversed())
            let jobs: [Job] = Array(try tx.jobs(JobQuery()).reversed())
            let events = try tx.events(after: 0, ownerID: nil, limit: Int.max)
            let webhooks = try tx.webhooks(owner: nil)
            return Counts(users: users, environments: environments, images: images, deployments: deployments, tokens: tokens,
                          audit: audit, jobs: jobs, events: events, webhooks: webhooks)
        }
        try await new.store.write { tx in
            for user in copied.users { try tx.insertUser(user) }
            for environment in copied.environments { try tx.insertEnvironment(environment) }
            for image in copied.images { try tx.insertImage(image) }
            for deployment in copied.deployments { try tx.insertDeployment(deployment) }
            for token in copied.tokens { try tx.insertToken(token) }
            for entry in copied.audit { try tx.insertAuditEntry(entry) }
            for var job in copied.jobs {
                // A job that was running when the source stopped runs again.
                if job.state == .running { job.state = .pending; job.leaseOwner = nil; job.leaseExpires = nil }
                try tx.insertJob(job)
                try tx.updateJobProgress(id: job.id, phase: job.phase, bytesDone: job.bytesDone, bytesTotal: job.bytesTotal,
                                         at: job.updatedAt ?? job.createdAt)
            }
            for event in copied.events { try tx.appendEvent(event) }
            for webhook in copied.webhooks { try tx.insertWebhook(webhook) }
        }
        print("copied \(copied.users.count) users, \(copied.environments.count) environments, \(copied.images.count) images, "
              + "\(copied.deployments.count) deployments, \(copied.tokens.count) tokens, \(copied.audit.count) audit entries, "
              + "\(copied.jobs.count) jobs, \(copied.events.count) events, \(copied.webhooks.count) webhooks")

        // Blobs, each verified by its digest on the way in.
        var bytes: Int64 = 0
        let digests = try await old.blobs.digests()
        for digest in digests {
            let ingest = try await new.blobs.ingest(try await old.blobs.get(digest))
            let lease = try await ingest.commit(expecting: digest)
            bytes += lease.blob.size
            lease.release()
        }
        print("copied \(digests.count) blobs (\(bytes) bytes), every digest checked")
        var missing: [String] = []
        for image in copied.images {
            if let checksum = image.image.checksum, image.image.servesBytes, !(try await new.blobs.contains(checksum)) {
                missing.append(image.id)
            }
        }
        guard missing.isEmpty else {
            printError("images whose bytes the source did not have: \(missing.joined(separator: ", "))")
            throw ExitCode(1)
        }
        print("every image's bytes are in the target; start the nodes on \(to) (with the same credential key)")
    }

    struct Counts: Sendable {
        var users: [UserRecord]
        var environments: [StoredEnvironment]
        var images: [StoredImage]
        var deployments: [Deployment]
        var tokens: [StoredToken]
        var audit: [AuditEntry]
        var jobs: [Job]
        var events: [RegistryEvent]
        var webhooks: [StoredWebhook]
    }
}
