import ViceSupport

/// Where and how to connect, per environment.
public struct HTTPConnectionOptions: Sendable, Hashable {
    /// Connect through this unix socket instead of TCP (the URL's host is then only a name).
    public var unixSocketPath: String?
    /// A PEM bundle of certificate authorities to trust instead of the system's.
    public var caBundlePath: String?
    /// Skips TLS certificate and host name verification. Only when an environment asks for it.
    public var insecure: Bool
    public var connectTimeout: Duration
    /// A transfer that moves no byte for this long fails.
    public var idleTimeout: Duration
    /// A client certificate chain and its key (PEM files), for servers that verify clients (a
    /// Docker engine run with `--tlsverify`).
    public var clientCertificatePath: String?
    public var clientKeyPath: String?
    /// Where the transfer may connect, checked against every resolved address (and unix socket)
    /// before a socket opens. nil only for the registry's own peers (plugins it was configured with).
    public var egress: EgressPolicy?

    public init(unixSocketPath: String? = nil, caBundlePath: String? = nil, insecure: Bool = false,
                connectTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60),
                egress: EgressPolicy? = nil) {
        self.unixSocketPath = unixSocketPath
        self.caBundlePath = caBundlePath
        self.insecure = insecure
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.egress = egress
    }
}

/// A request body: a stream of byte chunks, with its length when known (otherwise it is sent
/// with chunked transfer encoding).
public struct HTTPRequestBody: Sendable {
    public var content: ByteStream
    public var length: Int64?
    /// The whole body, when it was given as bytes: handed to the transfer thread directly, so a
    /// small JSON body never waits for a task to be scheduled (a server may time out the read).
    var inline: [UInt8]?

    public init(_ content: ByteStream, length: Int64? = nil) {
        self.content = content
        self.length = length
    }

    public init(bytes: [UInt8]) {
        self.init(ByteStream(bytes: bytes), length: Int64(bytes.count))
        inline = bytes
    }
}

public struct HTTPClientRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: HTTPRequestBody?
    public var options: HTTPConnectionOptions

    public init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [],
                body: HTTPRequestBody? = nil, options: HTTPConnectionOptions = HTTPConnectionOptions()) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.options = options
    }
}

/// A response whose body is still arriving: read `body` to the end (or drop it to abort).
public struct HTTPClientResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: ByteStream

    /// The first header with this name (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The whole body, refusing more than `limit` bytes (for small JSON answers).
    public func collect(upTo limit: Int = 16 << 20) async throws -> [UInt8] {
        try await body.collect(upTo: limit)
    }
}
