import Foundation
import ViceCore
import ViceHTTP
import Logging

/// The connection to one Docker engine: `unix:///path/docker.sock` (trusted environments only)
/// or `tcp://host:port` (`https` when `specifics.tls` is true, with `specifics.caBundle` or
/// `specifics.insecure`, and `specifics.clientCertificate` + `specifics.clientKey` for an engine
/// that verifies clients, as `dockerd --tlsverify` does). There is no default location: a
/// missing one is invalid input, never the host's own engine. Paths carry the API version negotiated from `/_ping`, never above 1.41,
/// the version this adapter is written for.
struct DockerEngine: Sendable {
    static let newestAPIVersion = (1, 41)

    let baseURL: String
    let options: HTTPConnectionOptions
    let client = HTTPClient()

    init(location: String?, specifics: JSONValue?, context: AdapterContext = AdapterContext(logger: .init(label: "vice.docker"))) throws {
        let location = (location ?? "").trimmingCharacters(in: .whitespaces)
        var options = HTTPConnectionOptions(connectTimeout: .seconds(10), idleTimeout: .seconds(300), egress: context.egress)
        do {
            if location.isEmpty {
                throw AdapterError(.invalidConfiguration, "a Docker environment needs credentials.location: tcp://host:port, or unix:///path for an admin's environment")
            } else if location.hasPrefix("unix://") {
                let path = String(location.dropFirst("unix://".count))
                try context.egress.check(unixSocket: path, what: "the Docker location \(location)")
                options.unixSocketPath = path
                baseURL = "http://docker"
            } else if location.hasPrefix("tcp://") || location.hasPrefix("http://") || location.hasPrefix("https://") {
                let hostPort = location.replacingOccurrences(of: "tcp://", with: "")
                    .replacingOccurrences(of: "http://", with: "").replacingOccurrences(of: "https://", with: "")
                    .trimmingCharacters(in: CharacterSet(charactersIn: "/"))
                guard !hostPort.contains("/"), !hostPort.contains("@"), let host = LocationPattern.host(of: hostPort) else {
                    throw AdapterError(.invalidConfiguration, "a Docker location is tcp://host:port, not '\(location)'")
                }
                try context.egress.check(host: host, what: "the Docker location \(location)")
                let tls = location.hasPrefix("https://") || specifics?["tls"] == .bool(true)
                baseURL = (tls ? "https://" : "http://") + hostPort
                options.caBundlePath = specifics?["caBundle"]?.stringValue
                options.clientCertificatePath = specifics?["clientCertificate"]?.stringValue
                options.clientKeyPath = specifics?["clientKey"]?.stringValue
                try context.checkHostFile(options.caBundlePath, setting: "specifics.caBundle")
                try context.checkHostFile(options.clientCertificatePath, setting: "specifics.clientCertificate")
                try context.checkHostFile(options.clientKeyPath, setting: "specifics.clientKey")
                guard (options.clientCertificatePath == nil) == (options.clientKeyPath == nil) else {
                    throw AdapterError(.invalidConfiguration, "specifics.clientCertificate and specifics.clientKey go together")
                }
                options.insecure = specifics?["insecure"] == .bool(true)
            } else {
                throw AdapterError(.invalidConfiguration, "a Docker location is tcp://host:port or unix:///path, not '\(location)'")
            }
        } catch let refusal as EgressRefusal {
            throw AdapterError(.invalidConfiguration, refusal.message)
        }
        self.options = options
    }

    /// The API path prefix: the engine's version from `/_ping`, capped at the newest we speak.
    func versionPrefix() async throws -> String {
        let ping = try await send("GET", "/_ping", versioned: false)
        _ = try await ping.collect(upTo: 4096)
        guard ping.status == 200 else { throw AdapterError(.unavailable, "the Docker engine answered /_ping with \(ping.status)") }
        guard let text = ping.header("Api-Version") else { return "" }
        let parts = text.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 2 else { return "" }
        let version = (parts[0], parts[1]) < Self.newestAPIVersion ? (parts[0], parts[1]) : Self.newestAPIVersion
        return "/v\(version.0).\(version.1)"
    }

    /// Sends a request; `path` already holds the version prefix unless `versioned` is false.
    func send(_ method: String, _ path: String, versioned: Bool = false, body: HTTPRequestBody? = nil,
              contentType: String? = nil) async throws -> HTTPClientResponse {
        var headers: [(name: String, value: String)] = []
        if let contentType { headers.append(("Content-Type", contentType)) }
        do {
            return try await client.execute(HTTPClientRequest(method: method, url: baseURL + path, headers: headers,
                                                              body: body, options: options))
        } catch let error as HTTPClientError where error.kind == .body {
            throw AdapterError(.remoteError, "\(method) \(path.split(separator: "?").first ?? ""): \(error.message)", transient: false)
        } catch let error as HTTPClientError {
            throw AdapterError(.unavailable, "the Docker engine at \(options.unixSocketPath ?? baseURL) cannot be reached: \(error.message)",
                               transient: error.isTransient)
        }
    }

    /// Reads a small JSON answer.
    func json(_ response: HTTPClientResponse) async throws -> Any {
        let bytes = try await response.collect(upTo: 32 << 20)
        return (try? JSONSerialization.jsonObject(with: Data(bytes))) ?? [:]
    }

    /// The engine's error message of a failed call (`{"message": …}`).
    func failure(_ response: HTTPClientResponse, doing what: String) async -> AdapterError {
        let message = (((try? await json(response)) as? [String: Any])?["message"] as? String).map { RemoteText.excerpt($0) }
            ?? "HTTP \(response.status)"
        switch response.status {
        case 404: return AdapterError(.notFound, "\(what): \(message)")
        case 500...: return AdapterError(.remoteError, "\(what): the engine failed: \(message)", transient: true)
        default: return AdapterError(.remoteError, "\(what): \(message)")
        }
    }

    /// Reads a JSON message stream (`/images/load`, `/build`) to its end; throws the first `error`.
    func messages(_ response: HTTPClientResponse, doing what: String) async throws -> [[String: Any]] {
        var buffer: [UInt8] = []
        var messages: [[String: Any]] = []
        func drain(final: Bool) throws {
            while let newline = buffer.firstIndex(of: 10) ?? (final && !buffer.isEmpty ? buffer.count : nil) {
                let line = Array(buffer[..<newline])
                buffer.removeSubrange(..<min(buffer.count, newline + 1))
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { continue }
                if let error = object["error"] as? String ?? (object["errorDetail"] as? [String: Any])?["message"] as? String {
                    throw AdapterError(.remoteError, "\(what): \(RemoteText.excerpt(error))")
                }
                messages.append(object)
            }
        }
        for try await chunk in response.body {
            buffer += chunk
            try drain(final: false)
            guard buffer.count < 4 << 20 else { throw AdapterError(.remoteError, "\(what): the engine sent an oversized message") }
        }
        try drain(final: true)
        return messages
    }
}
