import Foundation
import Logging
import ViceCore
import ViceHTTP

/// Glance v2 calls with a Keystone token. A 401 renews the token once and repeats the call, except
/// for calls whose streamed body cannot be replayed: those fail the attempt instead.
struct Glance: Sendable {
    let keystone: Keystone
    let client: HTTPClient
    var logger = Logger(label: "vice.openstack")

    /// A response with the endpoint it came from (`next` links are relative to its root).
    struct Reply: Sendable {
        var response: HTTPClientResponse
        var endpoint: String
    }

    /// Sends `method path` (path relative to the v2 base, e.g. `/images/{id}`, or an absolute
    /// `/v2/...` path as Glance's `next` links are).
    func send(_ method: String, _ path: String, json: Any? = nil, body: HTTPRequestBody? = nil,
              headers: [(name: String, value: String)] = [], replayable: Bool = true) async throws -> Reply {
        var token = try await keystone.token()
        var renewed = false
        while true {
            let endpoint = try keystone.imageEndpoint(in: token)
            var all: [(name: String, value: String)] = [("X-Auth-Token", token.value), ("Accept", "application/json")]
            var requestBody = body
            if let json {
                all.append(("Content-Type", "application/json"))
                requestBody = HTTPRequestBody(bytes: Array(try JSONSerialization.data(withJSONObject: json)))
            }
            all += headers
            let url = try Self.url(endpoint: endpoint, path: path)
            let response: HTTPClientResponse
            do {
                response = try await client.execute(HTTPClientRequest(
                    method: method, url: url, headers: all, body: requestBody, options: keystone.settings.connection))
            } catch let error as HTTPClientError {
                throw AdapterError(.unavailable, "Glance at \(endpoint) cannot be reached (\(method) \(path)): \(error.message)",
                                   transient: error.isTransient || error.kind == .send || error.kind == .body || error.kind == .receive)
            }
            guard response.status == 401, !renewed else { return Reply(response: response, endpoint: endpoint) }
            _ = try? await response.collect(upTo: 1 << 20)
            keystone.invalidate()
            guard replayable || body == nil else {
                throw AdapterError(.unavailable, "Glance refused the token during \(method) \(path); the attempt is repeated with a new one")
            }
            token = try await keystone.token(renew: true)
            renewed = true
        }
    }

    static func url(endpoint: String, path: String) throws -> String {
        if path.contains("://") {
            // An absolute link from Glance: followed only when it stays on the endpoint's server.
            guard let origin = Self.origin(of: endpoint), Self.origin(of: path) == origin else {
                throw AdapterError(.remoteError, "Glance sent a link to another server; it is not followed")
            }
            return path
        }
        guard path.hasPrefix("/") else { throw AdapterError(.remoteError, "Glance sent a link that is not a path") }
        if path.hasPrefix("/v2/") || path == "/v2" {
            // A `next` link: relative to the endpoint's root, which ends in /v2.
            return String(endpoint.dropLast(3)) + path
        }
        return endpoint + path
    }

    /// `scheme://host:port` of a URL, lower-cased.
    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else { return nil }
        return "\(scheme)://\(host):\(components.port.map(String.init) ?? "")".lowercased()
    }

    /// Reads a JSON answer of at most 16 MiB.
    func decode<T: Decodable>(_ type: T.Type, from reply: Reply, doing what: String) async throws -> T {
        let bytes = try await reply.response.collect(upTo: 16 << 20)
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw AdapterError(.remoteError, "\(what): Glance sent JSON this adapter cannot read: \(error)")
        }
    }

    /// The error a failed call stands for, with Glance's own words.
    func failure(_ reply: Reply, doing what: String) async -> AdapterError {
        let bytes = (try? await reply.response.collect(upTo: 1 << 20)) ?? []
        let status = reply.response.status
        let text = Self.message(bytes) ?? "HTTP \(status)"
        // What the caller sees is bounded and filtered; the operator gets a little more, still bounded.
        logger.notice("Glance refused a call", metadata: [
            "doing": "\(what)", "status": "\(status)",
            "body": "\(RemoteText.excerpt(String(decoding: bytes.prefix(2048), as: UTF8.self), limit: 1000))"])
        switch status {
        case 401: return AdapterError(.authenticationFailed, "\(what): Glance refused the token: \(text)")
        case 403: return AdapterError(.authenticationFailed, "\(what): not allowed: \(text)")
        case 404: return AdapterError(.notFound, "\(what): \(text)")
        case 413: return AdapterError(.remoteError, "\(what): too large for Glance (quota or image_size_cap): \(text)")
        case 500...: return AdapterError(.remoteError, "\(what): Glance failed (HTTP \(status)): \(text)", transient: true)
        default: return AdapterError(.remoteError, "\(what): Glance answered HTTP \(status): \(text)")
        }
    }

    /// Glance's error bodies are HTML or text from webob, or JSON from the API: the sentence that
    /// says why, bounded and printable only. The server is the caller's choice, so a body that
    /// does not look like Glance's error page is not repeated at all.
    static func message(_ bytes: [UInt8]) -> String? {
        if let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] {
            if let message = object["message"] as? String { return RemoteText.excerpt(message) }
            if let error = object["error"] as? [String: Any], let message = error["message"] as? String { return RemoteText.excerpt(message) }
            return nil
        }
        let text = String(decoding: bytes.prefix(4096), as: UTF8.self)
        // webob's pages: <html><head><title>400 Bad Request</title>… <h1>…</h1> reason …
        guard text.range(of: #"^\s*(<html>|\d{3} [A-Za-z ]+\n)"#, options: .regularExpression) != nil else { return nil }
        let stripped = text.replacingOccurrences(of: "<[^>]+>", with: "\n", options: .regularExpression)
        let lines = stripped.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        // webob repeats the status as a title; the sentence after it is the reason.
        return (lines.count > 1 ? lines.dropFirst().joined(separator: " ") : lines.first).map { RemoteText.excerpt($0) }
    }
}
