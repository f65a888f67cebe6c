import Foundation
package import ViceCore

/// The registry's configuration file (`config/vice.yaml`). Every section and key is optional and
/// has the default shown in `docs/configuration.md`; unknown keys are errors. Relative paths are
/// taken from the directory the server is started in.
package struct ViceConfiguration: Decodable, Sendable, Equatable {
    package var server = ServerSettings()
    package var storage = StorageSettings()
    package var database = DatabaseSettings()
    package var workers = WorkerSettings()
    package var security = SecuritySettings()
    package var adapters = AdapterSettings()
    package var logging = LoggingSettings()
    package var metrics = MetricsSettings()
    /// Environments declared here (see `EnvironmentDefinition`).
    package var environments: [EnvironmentDefinition] = []
    /// A folder of `*.yaml` files with more of them (`environments:` lists), one file per team or
    /// cloud; nil = none.
    package var environmentsDirectory: String?
    /// Where `vice serve` writes its pid, so that `vice env reload` can signal it.
    package var pidFile = "data/vice.pid"

    package init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case server, storage, database, workers, security, adapters, logging, metrics, environments, environmentsDirectory, pidFile
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        server = try c.decodeIfPresent(ServerSettings.self, forKey: .server) ?? server
        storage = try c.decodeIfPresent(StorageSettings.self, forKey: .storage) ?? storage
        database = try c.decodeIfPresent(DatabaseSettings.self, forKey: .database) ?? database
        workers = try c.decodeIfPresent(WorkerSettings.self, forKey: .workers) ?? workers
        security = try c.decodeIfPresent(SecuritySettings.self, forKey: .security) ?? security
        adapters = try c.decodeIfPresent(AdapterSettings.self, forKey: .adapters) ?? adapters
        logging = try c.decodeIfPresent(LoggingSettings.self, forKey: .logging) ?? logging
        metrics = try c.decodeIfPresent(MetricsSettings.self, forKey: .metrics) ?? metrics
        environments = try c.decodeIfPresent([EnvironmentDefinition].self, forKey: .environments) ?? []
        environmentsDirectory = try c.decodeIfPresent(String.self, forKey: .environmentsDirectory)
        pidFile = try c.decodeIfPresent(String.self, forKey: .pidFile) ?? pidFile
    }

    /// Reads and validates a configuration file.
    package static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ViceConfiguration {
        try YAMLDecoder(environment: environment).decode(ViceConfiguration.self, fromFile: path)
    }
}

package struct ServerSettings: Decodable, Sendable, Equatable {
    package var host = "127.0.0.1"
    package var port = 8080
    /// A connection that sends no part of a request (a header block, a body chunk) for this long
    /// is closed: a client that sends half a request does not keep its connection.
    package var idleTimeoutSeconds = 60
    /// Uploads one user may run at once (429 past it), and all users together (503 past it).
    package var uploadsPerUser = 4
    package var uploadsInTotal = 32
    /// HTTPS: the certificate chain and its private key (PEM files). Without it the server speaks
    /// plain HTTP, and warns at start-up when it listens on anything but loopback.
    package var tls: TLSFiles?
    /// Origins whose web pages may call the API (CORS); none by default.
    package var corsOrigins: [String] = []

    package struct TLSFiles: Decodable, Sendable, Equatable {
        package var certificate: String
        package var key: String
        enum CodingKeys: String, CodingKey, CaseIterable { case certificate, key }
        package init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            certificate = try c.decode(String.self, forKey: .certificate)
            key = try c.decode(String.self, forKey: .key)
        }
    }

    package init() {}
    enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port, idleTimeoutSeconds, uploadsPerUser, uploadsInTotal, tls, corsOrigins
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? port
        idleTimeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .idleTimeoutSeconds) ?? idleTimeoutSeconds
        uploadsPerUser = try c.decodeIfPresent(Int.self, forKey: .uploadsPerUser) ?? uploadsPerUser
        uploadsInTotal = try c.decodeIfPresent(Int.self, forKey: .uploadsInTotal) ?? uploadsInTotal
        tls = try c.decodeIfPresent(TLSFiles.self, forKey: .tls)
        corsOrigins = try c.decodeIfPresent([String].self, forKey: .corsOrigins) ?? []
        if let bad = corsOrigins.first(where: { !($0.hasPrefix("https://") || $0.hasPrefix("http://")) || $0.hasSuffix("/") || $0 == "*" }) {
            throw DecodingError.dataCorruptedError(forKey: .corsOrigins, in: c,
                                                   debugDescription: "'\(bad)' is not an origin (scheme://host[:port], no path, no *)")
        }
        for (key, value) in [(CodingKeys.idleTimeoutSeconds, idleTimeoutSeconds), (.uploadsPerUser, uploadsPerUser), (.uploadsInTotal, uploadsInTotal)]
        where !(1...100_000).contains(value) {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be between 1 and 100000")
        }
        guard (0...65535).contains(port) else {
            throw DecodingError.dataCorruptedError(forKey: .port, in: c, debugDescription: "port must be between 0 and 65535")
        }
        guard !host.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .host, in: c, debugDescription: "host must not be empty")
        }
    }
}

package struct StorageSettings: Decodable, Sendable, Equatable {
    /// Folder of the image store (blobs, staged uploads and temporary files).
    package var path = "data/store"
    /// The largest image file an upload may bring, in bytes (default 1 TiB).
    package var maxUploadBytes: Int64 = 1 << 40
    /// An S3 bucket for the blobs instead of `path` (which then holds only temporary files).
    package var s3: S3Settings?

    package init() {}
    enum CodingKeys: String, CodingKey, CaseIterable { case path, maxUploadBytes, s3 }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        path = try c.decodeIfPresent(String.self, forKey: .path) ?? path
        maxUploadBytes = try c.decodeIfPresent(Int64.self, forKey: .maxUploadBytes) ?? maxUploadBytes
        guard maxUploadBytes > 0 else {
            throw DecodingError.dataCorruptedError(forKey: .maxUploadBytes, in: c, debugDescription: "must be a positive number of bytes")
        }
        s3 = try c.decodeIfPresent(S3Settings.self, forKey: .s3)
    }
}

/// `storage.s3`: an S3-compatible bucket (AWS, Ceph RGW, SeaweedFS, MinIO) every node shares.
package struct S3Settings: Decodable, Sendable, Equatable {
    package var endpoint: String
    package var bucket: String
    package var region = "us-east-1"
    package var accessKeyId: String
    /// `file:PATH` or `${VARIABLE}` keeps it out of the configuration file.
    package var secretAccessKey: String
    /// `endpoint/bucket/key` instead of `bucket.endpoint/key` (most stores but AWS want it).
    package var pathStyle = true
    /// Prepended to every key, so that the bucket can hold other things too.
    package var prefix = ""
    /// Bytes per part of a multipart upload, in MiB (5-5120).
    package var partSizeMiB = 16

    package init(endpoint: String, bucket: String, accessKeyId: String, secretAccessKey: String) {
        self.endpoint = endpoint
        self.bucket = bucket
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case endpoint, bucket, region, accessKeyId, secretAccessKey, pathStyle, prefix, partSizeMiB
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        endpoint = try c.decode(String.self, forKey: .endpoint)
        guard endpoint.hasPrefix("https://") || endpoint.hasPrefix("http://") else {
            throw DecodingError.dataCorruptedError(forKey: .endpoint, in: c, debugDescription: "must be an http:// or https:// URL")
        }
        bucket = try c.decode(String.self, forKey: .bucket)
        guard (3...63).contains(bucket.count), bucket.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == ".") }) else {
            throw DecodingError.dataCorruptedError(forKey: .bucket, in: c, debugDescription: "must be 3-63 lower-case letters, digits, dots and dashes")
        }
        region = try c.decodeIfPresent(String.self, forKey: .region) ?? region
        accessKeyId = try c.decode(String.self, forKey: .accessKeyId)
        secretAccessKey = try ConfigSecret.resolve(try c.decode(String.self, forKey: .secretAccessKey), forKey: .secretAccessKey, in: c)
        pathStyle = try c.decodeIfPresent(Bool.self, forKey: .pathStyle) ?? pathStyle
        prefix = try c.decodeIfPresent(String.self, forKey: .prefix) ?? prefix
        partSizeMiB = try c.decodeIfPresent(Int.self, forKey: .partSizeMiB) ?? partSizeMiB
        guard (5...5120).contains(partSizeMiB) else {
            throw DecodingError.dataCorruptedError(forKey: .partSizeMiB, in: c, debugDescription: "must be from 5 to 5120 MiB")
        }
    }
}

package struct DatabaseSettings: Decodable, Sendable, Equatable {
    /// The SQLite file of metadata and jobs (the embedded default; ignored with `postgres`).
    package var sqlite = "data/vice.sqlite"
    /// A PostgreSQL database shared by several registry nodes instead of the SQLite file.
    package var postgres: PostgresSettings?

    package init() {}
    enum CodingKeys: String, CodingKey, CaseIterable { case sqlite, postgres }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sqlite = try c.decodeIfPresent(String.self, forKey: .sqlite) ?? sqlite
        postgres = try c.decodeIfPresent(PostgresSettings.self, forKey: .postgres)
    }
}

/// `database.postgres`: where the shared database is.
package struct PostgresSettings: Decodable, Sendable, Equatable {
    /// `postgres://user@host:5432/database?sslmode=require` (sslmode: disable, prefer, require).
    package var url: String
    /// The password, when the URL does not carry it: `file:PATH` (the file's content) or
    /// `${VARIABLE}`, so that it stays out of the configuration file.
    package var password: String?
    /// Connections this node keeps open.
    package var poolSize = 8

    package init(url: String, password: String? = nil, poolSize: Int = 8) {
        self.url = url
        self.password = password
        self.poolSize = poolSize
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case url, password, poolSize }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(String.self, forKey: .url)
        guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
            throw DecodingError.dataCorruptedError(forKey: .url, in: c, debugDescription: "must be a postgres:// URL")
        }
        if let value = try c.decodeIfPresent(String.self, forKey: .password) {
            password = try ConfigSecret.resolve(value, forKey: .password, in: c)
        }
        poolSize = try c.decodeIfPresent(Int.self, forKey: .poolSize) ?? poolSize
        guard (1...200).contains(poolSize) else {
            throw DecodingError.dataCorruptedError(forKey: .poolSize, in: c, debugDescription: "must be from 1 to 200 connections")
        }
    }
}

package struct WorkerSettings: Decodable, Sendable, Equatable {
    /// Concurrent jobs per queue.
    package var `import` = 2
    package var export = 2
    package var store = 2
    /// Seconds running jobs get to finish on shutdown before they are handed back to the queue.
    package var shutdownGraceSeconds = 30
    /// Attempts before a job with transient failures is given up.
    package var maxAttempts = 5
    /// A deployment whose image has no stored bytes after this long fails.
    package var deployWaitSeconds = 3600
    /// The longest one attempt of a job may run before it is stopped and fails.
    package var jobTimeLimitSeconds = 86_400
    /// Concurrent webhook deliveries.
    package var webhooks = 2
    /// How long jobs that ended, and events, are kept (`GET /v1/jobs`, `Last-Event-ID`).
    package var jobRetentionDays = 30
    package var eventRetentionDays = 7
    /// How long a claimed job is this node's without a heartbeat (renewed every third of it): the
    /// time after which another node takes over the job of a node that died or stalled.
    package var leaseSeconds = 30

    package init() {}
    enum CodingKeys: String, CodingKey, CaseIterable {
        case `import`, export, store, webhooks, shutdownGraceSeconds, maxAttempts, deployWaitSeconds, jobTimeLimitSeconds,
             jobRetentionDays, eventRetentionDays, leaseSeconds
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        for (key, keyPath) in [(CodingKeys.import, \WorkerSettings.import), (.export, \.export), (.store, \.store), (.webhooks, \.webhooks)] {
            if let value = try c.decodeIfPresent(Int.self, forKey: key) {
                guard (0...64).contains(value) else {
                    throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be between 0 and 64")
                }
                self[keyPath: keyPath] = value
            }
        }
        shutdownGraceSeconds = try c.decodeIfPresent(Int.self, forKey: .shutdownGraceSeconds) ?? shutdownGraceSeconds
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? maxAttempts
        deployWaitSeconds = try c.decodeIfPresent(Int.self, forKey: .deployWaitSeconds) ?? deployWaitSeconds
        jobTimeLimitSeconds = try c.decodeIfPresent(Int.self, forKey: .jobTimeLimitSeconds) ?? jobTimeLimitSeconds
        jobRetentionDays = try c.decodeIfPresent(Int.self, forKey: .jobRetentionDays) ?? jobRetentionDays
        eventRetentionDays = try c.decodeIfPresent(Int.self, forKey: .eventRetentionDays) ?? eventRetentionDays
        leaseSeconds = try c.decodeIfPresent(Int.self, forKey: .leaseSeconds) ?? leaseSeconds
        guard (3...3600).contains(leaseSeconds) else {
            throw DecodingError.dataCorruptedError(forKey: .leaseSeconds, in: c, debugDescription: "must be between 3 and 3600 seconds")
        }
        for (key, value) in [(CodingKeys.jobRetentionDays, jobRetentionDays), (.eventRetentionDays, eventRetentionDays)]
        where !(1...3650).contains(value) {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be between 1 and 3650 days")
        }
        for (key, value) in [(CodingKeys.deployWaitSeconds, deployWaitSeconds), (.jobTimeLimitSeconds, jobTimeLimitSeconds)] where value < 1 {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be at least 1 second")
        }
        guard shutdownGraceSeconds >= 0 else {
            throw DecodingError.dataCorruptedError(forKey: .shutdownGraceSeconds, in: c, debugDescription: "must not be negative")
        }
        guard (1...100).contains(maxAttempts) else {
            throw DecodingError.dataCorruptedError(forKey: .maxAttempts, in: c, debugDescription: "must be between 1 and 100")
        }
    }
}

package struct SecuritySettings: Decodable, Sendable, Equatable {
    /// File holding the AES-256 key that encrypts environment credentials (created if missing).
    package var credentialKeyFile = "data/credential.key"
    /// Whether `POST /v1/user` works without credentials. When false, admins create users.
    package var openRegistration = false
    /// bcrypt work factor for user passwords.
    package var bcryptCost = 12
    /// Where a generated first admin password is written (mode 0600).
    package var adminPasswordFile = "data/admin-password"
    /// Which address ranges environments may reach (see `EgressSettings`).
    package var egress = EgressSettings()
    /// Per adapter kind: whether users who are not admins may define such environments, and where
    /// they may point them. Kinds not listed: users may, anywhere the egress policy permits.
    package var environments: [String: EnvironmentRuleSettings] = [:]
    /// Failed logins tolerated per user name and per client address within `loginWindowSeconds`.
    package var loginFailuresPerUser = 10
    package var loginFailuresPerAddress = 50
    package var loginWindowSeconds = 300

    package init() {}
    enum CodingKeys: String, CodingKey, CaseIterable {
        case credentialKeyFile, openRegistration, bcryptCost, adminPasswordFile, egress, environments
        case loginFailuresPerUser, loginFailuresPerAddress, loginWindowSeconds
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        credentialKeyFile = try c.decodeIfPresent(String.self, forKey: .credentialKeyFile) ?? credentialKeyFile
        openRegistration = try c.decodeIfPresent(Bool.self, forKey: .openRegistration) ?? openRegistration
        bcryptCost = try c.decodeIfPresent(Int.self, forKey: .bcryptCost) ?? bcryptCost
        adminPasswordFile = try c.decodeIfPresent(String.self, forKey: .adminPasswordFile) ?? adminPasswordFile
        egress = try c.decodeIfPresent(EgressSettings.self, forKey: .egress) ?? egress
        environments = try c.decodeIfPresent([String: EnvironmentRuleSettings].self, forKey: .environments) ?? [:]
        loginFailuresPerUser = try c.decodeIfPresent(Int.self, forKey: .loginFailuresPerUser) ?? loginFailuresPerUser
        loginFailuresPerAddress = try c.decodeIfPresent(Int.self, forKey: .loginFailuresPerAddress) ?? loginFailuresPerAddress
        loginWindowSeconds = try c.decodeIfPresent(Int.self, forKey: .loginWindowSeconds) ?? loginWindowSeconds
        for (key, value) in [(CodingKeys.loginFailuresPerUser, loginFailuresPerUser), (.loginFailuresPerAddress, loginFailuresPerAddress),
                             (.loginWindowSeconds, loginWindowSeconds)] where value < 1 {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "must be at least 1")
        }
        guard (4...31).contains(bcryptCost) else {
            throw DecodingError.dataCorruptedError(forKey: .bcryptCost, in: c, debugDescription: "must be between 4 and 31")
        }
    }
}

/// `security.egress`: address ranges (CIDR) that environments' adapters may or may not connect to,
/// checked against every resolved address. Link-local ranges are refused always; loopback and
/// unix sockets only for environments an admin created or the configuration declares.
package struct EgressSettings: Decodable, Sendable, Equatable {
    /// When not empty, the only ranges environments may reach (e.g. the university's networks).
    package var allow: [String] = []
    /// Ranges never reached (e.g. the registry's own management network).
    package var deny: [String] = []

    package init() {}
    enum CodingKeys: String, CodingKey, CaseIterable { case allow, deny }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        allow = try c.decodeIfPresent([String].self, forKey: .allow) ?? []
        deny = try c.decodeIfPresent([String].self, forKey: .deny) ?? []
        for (key, list) in [(CodingKeys.allow, allow), (.deny, deny)] {
            if let bad = list.first(where: { IPRange($0) == nil }) {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "'\(bad)' is not an address range (CIDR, e.g. 10.0.0.0/8)")
            }
        }
    }

    package var policy: EgressPolicy {
        EgressPolicy(allowed: allow.compactMap(IPRange.init), denied: deny.compactMap(IPRange.init))
    }
}

/// `security.environments.<kind>`: what users who are not admins may do with one adapter kind.
package struct EnvironmentRuleSettings: Decodable, Sendable, Equatable {
    /// Whether they may create (and use their own) environments of this kind.
    package var usersMayCreate = true
    /// Locations they may use: URL prefixes, host names (`*.example.org`), or address ranges.
    /// Empty: any location the egress policy permits.
    package var locations: [String] = []

    package init() {}
    enum CodingKeys: String, CodingKey, CaseIterable { case usersMayCreate, locations }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        usersMayCreate = try c.decodeIfPresent(Bool.self, forKey: .usersMayCreate) ?? usersMayCreate
        locations = try c.decodeIfPresent([String].self, forKey: .locations) ?? []
        if let bad = locations.first(where: { LocationPattern($0) == nil }) {
            throw DecodingError.dataCorruptedError(forKey: .locations, in: c, debugDescription: "'\(bad)' is not a location pattern")
        }
    }

    package var rule: AdapterAccessRule {
        AdapterAccessRule(usersMayCreate: usersMayCreate, locations: locations.compactMap(LocationPattern.init))
    }
}

extension SecuritySettings {
    package var loginLimits: LoginLimits {
        LoginLimits(failuresPerUser: loginFailuresPerUser, failuresPerAddress: loginFailuresPerAddress,
                    window: TimeInterval(loginWindowSeconds))
    }

    /// The policy the registry enforces.
    package var environmentPolicy: EnvironmentPolicy {
        EnvironmentPolicy(egress: egress.policy,
                          rules: Dictionary(uniqueKeysWithValues: environments.map { ($0.key.lowercased(), $0.value.rule) }))
    }
}

package struct AdapterSettings: Decodable, Sendable, Equatable {
    /// The in-memory reference adapter (`managementlayer.software: memory`): for trying the API
    /// and for tests; what it holds is lost on restart.
    package var memory = Toggle()
    /// Docker engines (`managementlayer.software: docker`).
    package var docker = Toggle(enabled: true)
    /// OpenStack clouds (`managementlayer.software: openstack`): Keystone v3 + Glance v2.
    package var openstack = Toggle(enabled: true)
    /// bwLehrpool satellites (`managementlayer.software: bwlehrpool`): Thrift + block transfer.
    package var bwlehrpool = Toggle(enabled: true)
    /// Adapters in processes of their own (`vice-adapter/1` over a unix socket).
    package var external: [ExternalAdapter] = []

    package struct ExternalAdapter: Decodable, Sendable, Equatable {
        /// The `managementlayer.software` it serves; the plugin's handshake must say the same.
        package var kind: String
        /// Its unix socket.
        package var socket: String

        enum CodingKeys: String, CodingKey, CaseIterable { case kind, socket }

        package init(kind: String, socket: String) {
            self.kind = kind
            self.socket = socket
        }

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            kind = try c.decode(String.self, forKey: .kind).lowercased()
            socket = try c.decode(String.self, forKey: .socket)
            guard !kind.isEmpty, kind.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "'\(kind)' is not an adapter kind")
            }
            guard !socket.isEmpty else {
                throw DecodingError.dataCorruptedError(forKey: .socket, in: c, debugDescription: "the socket path is empty")
            }
        }
    }

    package struct Toggle: Decodable, Sendable, Equatable {
        package var enabled = false
        package init(enabled: Bool = false) { self.enabled = enabled }
        enum CodingKeys: String, CodingKey, CaseIterable { case enabled }
        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        }
    }

    package init() {}
    enum CodingKeys: String, CodingKey, CaseIterable { case memory, docker, openstack, bwlehrpool, external }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        memory = try c.decodeIfPresent(Toggle.self, forKey: .memory) ?? memory
        docker = try c.decodeIfPresent(Toggle.self, forKey: .docker) ?? docker
        openstack = try c.decodeIfPresent(Toggle.self, forKey: .openstack) ?? openstack
        bwlehrpool = try c.decodeIfPresent(Toggle.self, forKey: .bwlehrpool) ?? bwlehrpool
        external = try c.decodeIfPresent([ExternalAdapter].self, forKey: .external) ?? []
        let kinds = external.map(\.kind)
        if let duplicate = kinds.first(where: { kind in kinds.filter { $0 == kind }.count > 1 }) {
            throw DecodingError.dataCorruptedError(forKey: .external, in: c, debugDescription: "kind '\(duplicate)' is configured twice")
        }
    }
}

package struct LoggingSettings: Decodable, Sendable, Equatable {
    package enum Level: String, Decodable, Sendable, CaseIterable { case trace, debug, info, notice, warning, error, critical }
    package enum Format: String, Decodable, Sendable, CaseIterable { case text, json }

    package var level = Level.info
    package var format = Format.text

    package init() {}
    enum CodingKeys: String, CodingKey, CaseIterable { case level, format }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let text = try c.decodeIfPresent(String.self, forKey: .level) {
            guard let level = Level(rawValue: text) else {
                throw DecodingError.dataCorruptedError(forKey: .level, in: c, debugDescription:
                    "'\(text)' is not one of: \(Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            self.level = level
        }
        if let text = try c.decodeIfPresent(String.self, forKey: .format) {
            guard let format = Format(rawValue: text) else {
                throw DecodingError.dataCorruptedError(forKey: .format, in: c, debugDescription: "'\(text)' is not one of: text, json")
            }
            self.format = format
        }
    }
}

/// `metrics`: the Prometheus endpoint `GET /metrics` (`/health` and `/ready` are always open).
package struct MetricsSettings: Decodable, Sendable, Equatable {
    package enum Access: String, Decodable, Sendable, CaseIterable {
        /// No endpoint (404): the default, since metrics name routes, environments and volumes.
        case off
        /// Anyone who reaches the listener (loopback, or a network only the scraper is on).
        case open
        /// `Authorization: Bearer <metrics.token>`, as Prometheus sends with `authorization.credentials_file`.
        case token
    }

    package var access = Access.off
    /// The scrape token for `access: token`: `file:PATH` or `${VARIABLE}` (or the token itself).
    package var token: String?
    /// How often every environment's health is checked for `vice_environment_healthy`; 0 = only
    /// when someone asks (`GET /v1/environment/{id}/health`).
    package var environmentHealthSeconds = 300

    package init() {}
    enum CodingKeys: String, CodingKey, CaseIterable { case access, token, environmentHealthSeconds }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        access = try c.decodeIfPresent(Access.self, forKey: .access) ?? access
        if let value = try c.decodeIfPresent(String.self, forKey: .token) {
            token = try ConfigSecret.resolve(value, forKey: .token, in: c)
        }
        environmentHealthSeconds = try c.decodeIfPresent(Int.self, forKey: .environmentHealthSeconds) ?? environmentHealthSeconds
        if access == .token && (token ?? "").count < 16 {
            throw DecodingError.dataCorruptedError(forKey: .token, in: c,
                debugDescription: "access: token needs a token of at least 16 characters (file:PATH or ${VARIABLE})")
        }
        guard environmentHealthSeconds == 0 || (10...86_400).contains(environmentHealthSeconds) else {
            throw DecodingError.dataCorruptedError(forKey: .environmentHealthSeconds, in: c,
                                                   debugDescription: "must be 0 (off) or from 10 to 86400 seconds")
        }
    }
}
