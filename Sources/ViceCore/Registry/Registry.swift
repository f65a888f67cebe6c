package import Foundation
package import Logging

/// Settings of the registry's use cases.
package struct RegistryOptions: Sendable {
    /// Whether `POST /user` works without credentials. When closed, only admins create users.
    package var openRegistration: Bool
    /// How often a job is tried before its subject is marked failed.
    package var maxJobAttempts: Int
    /// Who may point the registry at what (per adapter kind) and where adapters may connect.
    package var environmentPolicy: EnvironmentPolicy
    /// How long a deployment waits for its image's bytes before it fails.
    package var deployWaitLimit: TimeInterval
    /// The largest image an import may bring (uploads have the server's own limit).
    package var maxImageBytes: Int64
    /// How long jobs that ended and events are kept.
    package var jobRetention: TimeInterval = 30 * 24 * 3600
    package var eventRetention: TimeInterval = 7 * 24 * 3600
    /// How often a running job's progress is saved (and sent as a `job.progress` event).
    package var progressInterval: Duration = .seconds(1)
    /// Failed-login limits and the bound on queued password checks.
    package var loginLimits: LoginLimits

    package init(openRegistration: Bool = false, maxJobAttempts: Int = 5,
                environmentPolicy: EnvironmentPolicy = EnvironmentPolicy(), deployWaitLimit: TimeInterval = 3600,
                maxImageBytes: Int64 = 1 << 40, loginLimits: LoginLimits = LoginLimits()) {
        self.loginLimits = loginLimits
        self.openRegistration = openRegistration
        self.maxJobAttempts = maxJobAttempts
        self.environmentPolicy = environmentPolicy
        self.deployWaitLimit = deployWaitLimit
        self.maxImageBytes = maxImageBytes
    }
}

/// The registry's use cases: users, environments, images, deployments and the jobs behind them.
/// Everything it needs arrives through protocols; it knows no HTTP, database or adapter.
package final class Registry: Sendable {
    let store: any MetadataStore
    let blobs: any BlobStore
    package let catalog: AdapterCatalog
    let hasher: any PasswordHasher
    let cipher: CredentialCipher
    let credentialCache: CredentialCache
    let loginGuard: LoginGuard
    /// A bcrypt hash of nothing anyone knows, verified for unknown user names so that they cost
    /// what a wrong password costs (made once, on first use, at the configured cost).
    let dummyHash = LockedBox<String?>(nil)
    let signals: [JobQueueName: JobSignal]
    let workerSlots = LockedBox<[JobQueueName: Int]>([:])
    /// Environments declared in the configuration, by id.
    let configured = LockedBox<[String: ConfiguredEnvironment]>([:])
    let logger: Logger
    package let options: RegistryOptions
    /// Converts disks for targets that cannot take an image's format; nil = no conversion.
    let converter: (any DiskConverter)?
    /// Wakes event streams when events were recorded.
    package let events = JobSignal()
    /// The jobs running in this process, for callers' cancels.
    package let cancellations = JobCancellations()
    /// How webhook deliveries leave; nil = they fail (no HTTP client was given).
    let webhookTransport: (any WebhookTransport)?

    package init(store: any MetadataStore, blobs: any BlobStore, catalog: AdapterCatalog, hasher: any PasswordHasher,
                cipher: CredentialCipher, options: RegistryOptions = RegistryOptions(),
                credentialCache: CredentialCache = CredentialCache(), converter: (any DiskConverter)? = nil,
                webhookTransport: (any WebhookTransport)? = nil, logger: Logger = Logger(label: "vice.registry")) {
        self.converter = converter
        self.webhookTransport = webhookTransport
        let signals = Dictionary(uniqueKeysWithValues: JobQueueName.allCases.map { ($0, JobSignal()) })
        let webhookSignal = signals[.webhook]!
        self.store = EventedStore(store, signal: events, deliveriesQueued: { webhookSignal.notify() })
        self.blobs = blobs
        self.catalog = catalog
        self.hasher = hasher
        self.cipher = cipher
        self.options = options
        self.credentialCache = credentialCache
        self.loginGuard = LoginGuard(limits: options.loginLimits)
        self.logger = logger
        self.signals = signals
    }

    /// The signal that wakes the workers of `queue`.
    package func signal(for queue: JobQueueName) -> JobSignal {
        signals[queue]!
    }

    /// Makes the worker pool of `queue` and counts its slots in `RuntimeStats`.
    package func makeWorkerPool(queue: JobQueueName, concurrency: Int, jobs: any JobQueue,
                               retry: RetryPolicy = RetryPolicy(), lease: TimeInterval = 30,
                               pollInterval: Duration = .seconds(1), grace: Duration = .seconds(30),
                               timeLimit: Duration? = nil, deferralLimit: TimeInterval? = nil) -> WorkerPool {
        workerSlots.withLock { $0[queue, default: 0] += concurrency }
        return WorkerPool(queue: queue, concurrency: concurrency, jobs: jobs, handler: self, signal: signal(for: queue),
                          retry: retry, lease: lease, pollInterval: pollInterval, grace: grace, timeLimit: timeLimit,
                          // Deferring jobs wait for images (up to the deploy wait) or running deploys.
                          deferralLimit: deferralLimit ?? max(24 * 3600, 2 * options.deployWaitLimit),
                          cancellations: cancellations, logger: logger)
    }

    /// Inserts with a fresh id, retrying on the (astronomically unlikely) collision rather than
    /// ever answering for a record that was not stored.
    func withFreshID<T: Sendable>(_ body: @escaping @Sendable (String) async throws -> T) async throws -> T {
        for attempt in 1...3 {
            do {
                return try await body(IDGenerator.make())
            } catch let error as ViceError where error.code == .conflict && error.message.hasPrefix("duplicate id") && attempt < 3 {
                continue
            }
        }
        throw ViceError(.internal, "could not allocate an id")
    }

    /// Runs `body` in a task of its own. Once a job's work is done (bytes committed, an image in
    /// the target), a caller's cancel arriving now must not stop its being recorded: the result
    /// would be left where no record names it.
    func recording<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await Task { try await body() }.value
    }

    func notify(_ queue: JobQueueName) {
        signal(for: queue).notify()
    }
}

/// Checks on free text from callers.
enum Validate {
    static func title(_ title: String?, field: String = "title") throws {
        if let title, title.count > 256 {
            throw ViceError.invalidInput("\(field) is longer than 256 characters")
        }
    }

    static func id(_ id: String?, field: String) throws -> String {
        guard let id = id?.trimmingCharacters(in: .whitespaces), !id.isEmpty else {
            throw ViceError.invalidInput("\(field) is required")
        }
        return id
    }

    static func pageLimit(_ page: PageRequest) throws {
        if let limit = page.limit, !(1...PageRequest.maximumLimit).contains(limit) {
            throw ViceError.invalidInput("limit must be between 1 and \(PageRequest.maximumLimit)")
        }
    }
}

extension Array where Element: Sendable {
    /// Cuts the `limit + 1` rows a store returned into a page and the marker of the next one.
    func paged(_ page: PageRequest, id: (Element) -> String) -> Page<Element> {
        guard let limit = page.limit, count > limit else { return Page(items: self, nextMarker: nil) }
        let items = Array(prefix(limit))
        return Page(items: items, nextMarker: items.last.map(id))
    }
}
