import Crypto
package import Foundation
import Logging
import ViceAdapterTesting
import ViceConversion
package import ViceCore
import ViceInMemory
import ViceServer
import VicePostgres
import ViceSQLite
package import ViceStorage

/// A registry on real stores (SQLite file, file blob store) in a temporary directory, with the
/// in-memory and limited test adapters, bcrypt at its cheapest cost, and helpers to run workers.
/// With `VICE_TEST_STORE=postgres` its records and jobs are in a fresh database on the
/// PostgreSQL server of `VICE_TEST_POSTGRES_URL` instead (`script/test` runs the core and API
/// suites both ways).
package final class RegistryFixture: @unchecked Sendable {
    package let directory: TemporaryDirectory
    package let store: any MetadataStore & JobQueue
    package let blobs: FileBlobStore
    package let registry: Registry
    package let cipher: CredentialCipher
    private var workers: [(WorkerPool, Task<Void, Never>)] = []

    /// Opens a registry in `directory` (a new one unless given: pass one to "restart"); the
    /// registry sees the blob store through `wrapBlobs` when given (to inject faults or hooks).
    package init(directory: TemporaryDirectory? = nil, openRegistration: Bool = true, maxJobAttempts: Int = 5,
                deployWaitLimit: TimeInterval = 3600, hasher: (any PasswordHasher)? = nil,
                loginLimits: LoginLimits = RegistryFixture.generousLoginLimits,
                wrapBlobs: ((any BlobStore) -> any BlobStore)? = nil) async throws {
        self.directory = try directory ?? TemporaryDirectory()
        store = try await Self.openStore(in: self.directory)
        blobs = try FileBlobStore(root: self.directory.url.appendingPathComponent("store"))
        cipher = try CredentialCipher.loadOrCreate(keyFile: self.directory.file("credential.key"))
        var logger = Logger(label: "vice.test")
        logger.logLevel = .error
        registry = Registry(
            store: store, blobs: wrapBlobs?(blobs) ?? blobs, catalog: AdapterCatalog([InMemoryAdapter.self, LimitedTestAdapter.self]),
            hasher: hasher ?? BcryptPasswordHasher(cost: 4), cipher: cipher,
            options: Self.options(openRegistration: openRegistration, maxJobAttempts: maxJobAttempts, deployWaitLimit: deployWaitLimit,
                                  loginLimits: loginLimits),
            converter: QemuImgConverter(), logger: logger)
        registry.catalog.temporaryDirectory = self.directory.url.appendingPathComponent("store/tmp")
    }

    /// The store of a fixture in `directory`: the SQLite file there, or the PostgreSQL database
    /// named in the folder (made on its first use, so that a "restart" finds the same records).
    private static func openStore(in directory: TemporaryDirectory) async throws -> any MetadataStore & JobQueue {
        let environment = ProcessInfo.processInfo.environment
        guard environment["VICE_TEST_STORE"] == "postgres" else { return try SQLiteStore(path: directory.file("vice.sqlite")) }
        guard let url = environment["VICE_TEST_POSTGRES_URL"] else {
            throw ViceError(.internal, "VICE_TEST_STORE=postgres needs VICE_TEST_POSTGRES_URL (script/test sets both)")
        }
        let server = try PostgresStore.Settings(url: url, poolSize: 3)
        let nameFile = directory.url.appendingPathComponent("postgres-database")
        if let name = try? String(contentsOf: nameFile, encoding: .utf8) {
            return try await PostgresStore(settings: server.with(database: name))
        }
        let name = "vice_fixture_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await PostgresStore.createDatabase(name, on: server)
        try Data(name.utf8).write(to: nameFile)
        return try await PostgresStore(settings: server.with(database: name))
    }

    /// Whether the records are in a store other nodes could share (PostgreSQL), where a restart
    /// does not re-queue running jobs.
    package var storeIsShared: Bool { store is PostgresStore }

    /// What someone with a copy of the database would read: the SQLite file and its log, or every
    /// value of every PostgreSQL table.
    package func storedBytes() async throws -> Data {
        if let postgres = store as? PostgresStore { return try await postgres.storedContents() }
        let database = try Data(contentsOf: directory.url.appendingPathComponent("vice.sqlite"))
        let log = (try? Data(contentsOf: directory.url.appendingPathComponent("vice.sqlite-wal"))) ?? Data()
        return database + log
    }

    private static func options(openRegistration: Bool, maxJobAttempts: Int, deployWaitLimit: TimeInterval,
                                loginLimits: LoginLimits) -> RegistryOptions {
        var options = RegistryOptions(openRegistration: openRegistration, maxJobAttempts: maxJobAttempts,
                                      deployWaitLimit: deployWaitLimit, loginLimits: loginLimits)
        // Progress saved often, so that tests see it move during short transfers.
        options.progressInterval = .milliseconds(100)
        return options
    }

    /// The `job.progress` events recorded for `jobID`: the `bytesDone` each reported.
    package func progressReported(jobID: String) async throws -> [Int64] {
        try await store.read { tx in
            try tx.events(after: 0, ownerID: nil, limit: 100_000).filter { $0.kind == .jobProgress && $0.subjectID == jobID }
        }.compactMap { event -> Int64? in
            guard case .object(let fields) = event.data, case .number(let done)? = fields["bytesDone"] else { return nil }
            return Int64(done)
        }
    }

    /// Tests send many wrong passwords on purpose; only the login tests use real limits.
    package static let generousLoginLimits = LoginLimits(failuresPerUser: 100_000, failuresPerAddress: 100_000)

    /// Adds a user (password `password-of-<name>`).
    @discardableResult
    package func user(_ name: String, admin: Bool = false) async throws -> UserRecord {
        try await registry.addUser(username: name, password: Self.password(of: name), email: "\(name)@example.org",
                                   fullname: name.capitalized, admin: admin)
    }

    package static func password(of name: String) -> String { "password-of-\(name)" }

    /// Starts import and export workers with quick retries.
    package func startWorkers(concurrency: Int = 2, grace: Duration = .seconds(5),
                             retry: RetryPolicy = RetryPolicy(base: 0.05, cap: 0.2), timeLimit: Duration? = nil) {
        for queue in JobQueueName.allCases {
            let pool = registry.makeWorkerPool(queue: queue, concurrency: concurrency, jobs: store, retry: retry,
                                               lease: 15, pollInterval: .milliseconds(50), grace: grace, timeLimit: timeLimit)
            workers.append((pool, Task { await pool.run() }))
        }
    }

    /// Stops the workers the way a graceful shutdown does and waits for them.
    package func stopWorkers() async {
        for (pool, _) in workers { pool.shutdown() }
        for (_, task) in workers { await task.value }
        workers = []
    }

    /// A memory environment of `owner` on the in-memory cloud `cloud`.
    package func memoryEnvironment(owner: UserRecord, cloud: String, password: String = "cloud-secret",
                                  specifics: JSONValue? = nil) async throws -> Environment {
        try await registry.createEnvironment(
            Environment(title: "memory \(cloud)",
                        credentials: Credentials(location: cloud, username: "tester", password: password, specifics: specifics),
                        runtimetechnology: RuntimeTechnology(type: .virtualmachine, software: "kvm"),
                        managementlayer: ManagementLayer(type: .cloudcomputing, software: "memory")),
            owner: owner)
    }

    /// Waits until the image reaches `status` (or fails trying). The wait is long: tests that move
    /// real images share two cores with the rest of the suite, and only a broken one waits it out.
    package func waitForImage(_ id: String, owner: UserRecord, status: ImageStatus) async throws -> Image {
        var last: Image?
        _ = try await eventually(timeout: .seconds(120)) {
            last = try await registry.image(id: id, owner: owner)
            return last?.status == status || (status != .failed && last?.status == .failed)
        }
        return last!
    }

    package func waitForDeployment(_ id: String, owner: UserRecord, status: DeploymentStatus) async throws -> Deployment? {
        var last: Deployment?
        _ = try await eventually(timeout: .seconds(120)) {
            do {
                last = try await registry.deployment(id: id, owner: owner)
            } catch let error as ViceError where error.code == .notFound {
                last = nil
                return true
            }
            return last?.status == status || (status != .failed && last?.status == .failed)
        }
        return last
    }

    /// Writes `bytes` into a new upload of the image, as the file endpoint does; returns the
    /// upload and the bytes' digest (`sha256:<hex>`), ready for `finishUpload`.
    package func stage(_ bytes: [UInt8], image: String, owner: UserRecord) async throws -> (Upload, String) {
        let upload = try await registry.beginUpload(imageID: image, owner: owner)
        try await upload.write(bytes)
        return (upload, "sha256:" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined())
    }

    /// Uploads the file at `path` into a new image of `owner` the way the file endpoint does
    /// (staging file, then the store job); the workers must run. Returns the active image.
    package func uploadImage(file path: String, title: String, contenttype: ContentType, owner: UserRecord) async throws -> Image {
        let image = try await registry.createImage(Image(title: title, contenttype: contenttype), owner: owner)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let (upload, _) = try await stage(bytes, image: image.id!, owner: owner)
        _ = try await registry.finishUpload(upload, owner: owner)
        return try await waitForImage(image.id!, owner: owner, status: .active)
    }
}

extension Registry {
    /// The stored (decrypted) credentials of an environment, for tests that check what was kept.
    package func unsealedCredentialsForTesting(environmentID: String) async throws -> Credentials? {
        try await environmentWithCredentials(id: environmentID)?.credentials
    }
}
