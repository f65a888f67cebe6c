package import ViceSupport

/// Where and how to connect, per environment.
package struct HTTPConnectionOptions: Sendable, Hashable {
    /// Connect through this unix socket instead of TCP (the URL's host is then only a name).
    package var unixSocketPath: String?
    /// A PEM bundle of certificate authorities to trust instead of the system's.
    package var caBundlePath: String?
    /// Skips TLS certificate and host name verification. Only when an environment asks for it.
    package var insecure: Bool
    package var connectTimeout: Duration
    /// A transfer that moves no byte for this long fails.
    package var idleTimeout: Duration
    /// A client certificate chain and its key (PEM files), for servers that verify clients (a
    /// Docker engine run with `--tlsverify`).
    package var clientCertificatePath: String?
    package var clientKeyPath: String?
    /// Where the transfer may connect, checked against every resolved address (and unix socket)
    /// before a socket opens. nil only for the registry's own peers (plugins it was configured with).
    package var egress: EgressPolicy?

    package init(unixSocketPath: String? = nil, caBundlePath: String? = nil, insecure: Bool = false,
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
package struct HTTPRequestBody: Sendable {
    package var content: ByteStream
    package var length: Int64?
    /// The whole body, when it was given as bytes: handed to the transfer thread directly, so a
    /// small JSON body never waits for a task to be scheduled (a server may time out the read).
    var inline: [UInt8]?

    package init(_ content: ByteStream, length: Int64? = nil) {
        self.content = content
        self.length = length
    }

    package init(bytes: [UInt8]) {
        self.init(ByteStream(bytes: bytes), length: Int64(bytes.count))
        inline = bytes
    }
}

package struct HTTPClientRequest: Sendable {
    package var method: String
    package var url: String
    package var headers: [(name: String, value: String)]
    package var body: HTTPRequestBody?
    package var options: HTTPConnectionOptions

    package init(method: String = "GET", url: String, headers: [(name: String, value: String)] = [],
                body: HTTPRequestBody? = nil, options: HTTPConnectionOptions = HTTPConnectionOptions()) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.options = options
    }
}

/// A response whose body is still arriving: read `body` to the end (or drop it to abort).
package struct HTTPClientResponse: Sendable {
    package var status: Int
    package var headers: [(name: String, value: String)]
    package var body: ByteStream

    /// The first header with this name (case-insensitive).
    package func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The whole body, refusing more than `limit` bytes (for small JSON answers).
    package func collect(upTo limit: Int = 16 << 20) async throws -> [UInt8] {
        try await body.collect(upTo: limit)
    }
}
