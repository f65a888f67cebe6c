import Foundation
import Logging
import ViceInMemory
import ViceBwLehrpool
import ViceConfig
import ViceConversion
import ViceCore
import ViceDocker
import ViceExternal
import ViceOpenStack
import VicePostgres
import ViceS3
import ViceServer
import ViceSQLite
import ViceStorage
// new-adapter: imports

/// The composition root: turns a configuration into concrete stores, adapters and a `Registry`.
/// The only place that names concrete types.
struct RegistryAssembly {
    let configuration: ViceConfiguration
    let registry: Registry
    /// SQLite (one node) or PostgreSQL (several).
    let store: any MetadataStore & JobQueue
    /// Set when the store is shared with other nodes: it tells this node of their jobs and events.
    let sharedStore: PostgresStore?
    /// Local files (one node), or an S3 bucket (several).
    let blobs: any BlobStore
    /// The local file store, when blobs are kept on this machine.
    let fileBlobs: FileBlobStore?
    let plugins: [ExternalPlugin]

    init(configuration: ViceConfiguration, logger: Logger) async throws {
        self.configuration = configuration
        let cipher = try CredentialCipher.loadOrCreate(keyFile: configuration.security.credentialKeyFile)
        let stores = try await Self.openStores(configuration, logger: logger)
        (store, sharedStore, blobs, fileBlobs) = (stores.store, stores.shared, stores.blobs, stores.files)
        let catalog = AdapterCatalog()
        if configuration.adapters.memory.enabled {
            catalog.register(InMemoryAdapter.self)
        }
        if configuration.adapters.docker.enabled {
            catalog.register(DockerAdapter.self)
        }
        if configuration.adapters.openstack.enabled {
            catalog.register(OpenStackAdapter.self)
        }
        if configuration.adapters.bwlehrpool.enabled {
            catalog.register(BwLehrpoolAdapter.self)
        }
        // Adapters' temporary files (upload spools, converted disks) live next to the store.
        catalog.temporaryDirectory = URL(fileURLWithPath: configuration.storage.path, isDirectory: true).appendingPathComponent("tmp")
        // new-adapter: registrations
        // External plugins: registered now, contacted in the background (start-up never waits).
        plugins = configuration.adapters.external.map { ExternalPlugin(kind: $0.kind, socketPath: $0.socket, logger: logger) }
        for plugin in plugins {
            catalog.register(plugin.factory)
        }
        var options = RegistryOptions(openRegistration: configuration.security.openRegistration,
                                      maxJobAttempts: configuration.workers.maxAttempts,
                                      environmentPolicy: configuration.security.environmentPolicy,
                                      deployWaitLimit: TimeInterval(configuration.workers.deployWaitSeconds),
                                      maxImageBytes: configuration.storage.maxUploadBytes,
                                      loginLimits: configuration.security.loginLimits)
        options.jobRetention = TimeInterval(configuration.workers.jobRetentionDays) * 86_400
        options.eventRetention = TimeInterval(configuration.workers.eventRetentionDays) * 86_400
        registry = Registry(
            store: store, blobs: blobs, catalog: catalog,
            hasher: BcryptPasswordHasher(cost: configuration.security.bcryptCost), cipher: cipher,
            options: options,
            converter: QemuImgConverter(), webhookTransport: CurlWebhookTransport(), logger: logger)
    }

    /// The stores a configuration names: metadata and jobs (SQLite or PostgreSQL) and blobs (local
    /// files or S3), the PostgreSQL store when it is shared, and the file store when blobs are local.
    static func openStores(_ configuration: ViceConfiguration, logger: Logger) async throws
        -> (store: any MetadataStore & JobQueue, shared: PostgresStore?, blobs: any BlobStore, files: FileBlobStore?) {
        let store: any MetadataStore & JobQueue
        let shared: PostgresStore?
        if let postgres = configuration.database.postgres {
            let settings = try PostgresStore.Settings(url: postgres.url, password: postgres.password, poolSize: postgres.poolSize)
            shared = try await PostgresStore(settings: settings, logger: logger)
            store = shared!
        } else {
            store = try SQLiteStore(path: configuration.database.sqlite)
            shared = nil
        }
        guard let s3 = configuration.storage.s3 else {
            let files = try FileBlobStore(root: URL(fileURLWithPath: configuration.storage.path, isDirectory: true))
            return (store, shared, files, files)
        }
        let blobs = S3BlobStore(location: S3Location(endpoint: s3.endpoint, bucket: s3.bucket, region: s3.region,
                                                     accessKeyID: s3.accessKeyId, secretAccessKey: s3.secretAccessKey,
                                                     pathStyle: s3.pathStyle, prefix: s3.prefix),
                                partSize: s3.partSizeMiB << 20,
                                // Nodes sharing the bucket keep their blob leases where all of them see them.
                                leases: shared.map { PostgresBlobLeases(store: $0) } ?? LocalBlobLeaseKeeper())
        try await blobs.prepare()
        // Adapters' temporary files and conversions stay on this machine.
        try FileManager.default.createDirectory(at: URL(fileURLWithPath: configuration.storage.path).appendingPathComponent("tmp"),
                                                withIntermediateDirectories: true)
        return (store, shared, blobs, nil)
    }

    static func loadConfiguration(_ path: String) throws -> ViceConfiguration {
        do {
            return try ViceConfiguration.load(path: path)
        } catch let error as ConfigError {
            printError("configuration error: \(error)")
            throw ExitCodeError(code: 2)
        }
    }
}

struct ExitCodeError: Error {
    let code: Int32
}
