public import Foundation
public import Logging

/// Which content types an adapter can bring into the registry and put into its environments.
public struct AdapterCapabilities: Sendable, Hashable, Codable {
    public var imports: Set<ContentType>
    public var deploys: Set<ContentType>

    public init(imports: Set<ContentType>, deploys: Set<ContentType>) {
        self.imports = imports
        self.deploys = deploys
    }

    enum CodingKeys: String, CodingKey { case imports, deploys }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imports = Set(try c.decode([ContentType].self, forKey: .imports))
        deploys = Set(try c.decode([ContentType].self, forKey: .deploys))
    }

    /// Sorted lists, so that answers are stable.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(imports.map(\.rawValue).sorted(), forKey: .imports)
        try c.encode(deploys.map(\.rawValue).sorted(), forKey: .deploys)
    }

    public func canImport(_ type: ContentType) -> Bool { imports.contains(type) }
    public func canDeploy(_ type: ContentType) -> Bool { deploys.contains(type) }
}

/// What an adapter is: the `managementlayer.software` it serves, its version and capabilities.
public struct AdapterDescriptor: Sendable, Hashable, Codable {
    /// The `managementlayer.software` value this adapter serves (lower case).
    public var kind: String
    public var version: String
    public var summary: String
    public var capabilities: AdapterCapabilities
    public var maintainers: [String]

    public init(kind: String, version: String, summary: String, capabilities: AdapterCapabilities, maintainers: [String] = []) {
        self.kind = kind.lowercased()
        self.version = version
        self.summary = summary
        self.capabilities = capabilities
        self.maintainers = maintainers
    }
}

/// The health of one environment as its adapter sees it: a value, never a throw.
public struct AdapterHealth: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable { case healthy, unhealthy }
    public var status: Status
    public var message: String?

    public init(status: Status, message: String? = nil) {
        self.status = status
        self.message = message
    }

    public static let healthy = AdapterHealth(status: .healthy)
    public static func unhealthy(_ message: String) -> AdapterHealth { AdapterHealth(status: .unhealthy, message: message) }
}

/// An image that can be imported from an environment.
public struct RemoteImage: Sendable, Hashable, Codable {
    /// The id to pass as `environmentReference` when importing.
    public var reference: String
    public var title: String?
    public var contenttype: ContentType?
    public var size: Int64?

    public init(reference: String, title: String? = nil, contenttype: ContentType? = nil, size: Int64? = nil) {
        self.reference = reference
        self.title = title
        self.contenttype = contenttype
        self.size = size
    }
}

/// An image on its way in: metadata and the byte stream.
public struct ImageSource: Sendable {
    public var contenttype: ContentType
    public var title: String?
    /// The size the environment announced; the registry checks the bytes against it.
    public var expectedSize: Int64?
    /// Adapter-specific metadata to keep in the image's `specifics`.
    public var specifics: JSONValue?
    public var content: ByteStream

    public init(contenttype: ContentType, title: String? = nil, expectedSize: Int64? = nil,
                specifics: JSONValue? = nil, content: ByteStream) {
        self.contenttype = contenttype
        self.title = title
        self.expectedSize = expectedSize
        self.specifics = specifics
        self.content = content
    }
}

/// An image on its way out: what an adapter needs to know besides the bytes.
public struct ImageDescription: Sendable, Hashable {
    public var imageID: String
    public var title: String
    public var contenttype: ContentType
    public var imagetype: ImageType?
    public var size: Int64
    /// `sha256:<hex>` of the bytes.
    public var checksum: String
    public var specifics: JSONValue?
    /// The deployment's own title and id.
    public var deploymentID: String
    public var deploymentTitle: String?
    /// The same bytes as a local file, when the store keeps one: adapters that need random
    /// access may read it instead of collecting `content` themselves. Never written to.
    public var localFile: URL?

    public init(imageID: String, title: String, contenttype: ContentType, imagetype: ImageType?, size: Int64,
                checksum: String, specifics: JSONValue?, deploymentID: String, deploymentTitle: String?) {
        self.imageID = imageID
        self.title = title
        self.contenttype = contenttype
        self.imagetype = imagetype
        self.size = size
        self.checksum = checksum
        self.specifics = specifics
        self.deploymentID = deploymentID
        self.deploymentTitle = deploymentTitle
    }
}

/// Where a deployed image lives in its environment.
public struct DeploymentReference: Sendable, Hashable {
    /// Recorded as the deployment's `environmentReference` (Glance id, Docker reference, …).
    public var reference: String

    public init(reference: String) {
        self.reference = reference
    }
}

/// What the registry gives an adapter besides its environment.
public struct AdapterContext: Sendable {
    public var logger: Logger
    /// Where an adapter may keep temporary files (on the store's file system); it removes them.
    public var temporaryDirectory: URL
    /// Where the adapter may connect: every outbound connection it opens obeys this. The registry
    /// grants loopback and unix sockets only to environments an admin created or the
    /// configuration declares.
    public var egress: EgressPolicy
    /// The owner's user name, for names the adapter gives what it creates (Docker tags).
    public var ownerName: String?
    /// Where the job the adapter works for reports its phase and bytes (`.ignored` outside a
    /// job). The registry counts the bytes of the streams it hands over; adapters report phases
    /// only they see (waiting for the target) and bytes of transfers they make on their own.
    public var progress: ProgressReporter

    /// Whether the environment is trusted (an admin created it, or the configuration declares it):
    /// only then may its settings name files on the registry's host (CA bundles, client keys) or
    /// unix sockets.
    public var isTrusted: Bool { egress.allowUnixSockets }

    /// Refuses a setting that names a file on this host unless the environment is trusted.
    public func checkHostFile(_ path: String?, setting: String) throws {
        guard let path else { return }
        guard isTrusted else {
            throw AdapterError(.invalidConfiguration,
                               "\(setting) names a file on the registry's host; only environments an admin created or the configuration declares may do that")
        }
        guard path.hasPrefix("/") else { throw AdapterError(.invalidConfiguration, "\(setting) must be an absolute path") }
    }

    public init(logger: Logger, temporaryDirectory: URL = FileManager.default.temporaryDirectory,
                egress: EgressPolicy = .trusted, ownerName: String? = nil, progress: ProgressReporter = .ignored) {
        self.progress = progress
        self.logger = logger
        self.temporaryDirectory = temporaryDirectory
        self.egress = egress
        self.ownerName = ownerName
    }
}

/// An adapter's error. `isTransient` decides whether the job is retried.
public struct AdapterError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The environment refused the credentials (or the operation for them).
        public static let authenticationFailed = Code("authenticationFailed")
        /// The environment has no such image or deployment.
        public static let notFound = Code("notFound")
        /// The adapter cannot do this (a content type, a virtualizer).
        public static let unsupported = Code("unsupported")
        /// The environment's settings are wrong on their face.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// The environment cannot be reached now.
        public static let unavailable = Code("unavailable")
        /// The environment did not answer in time.
        public static let timeout = Code("timeout")
        /// The environment answered with an error.
        public static let remoteError = Code("remoteError")
        /// Bytes arrived other than announced (size, digest).
        public static let integrity = Code("integrity")
    }

    public var code: Code
    public var message: String
    public var isTransient: Bool
    /// What the adapter met underneath (a transport error, a decoding error), for logs.
    public var cause: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, transient: Bool? = nil, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.isTransient = transient ?? (code == .unavailable || code == .timeout)
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(message) (\(cause))" }
        return message
    }
}
