package import ViceCore
import Foundation
package import ViceHTTP
import ViceSupport

/// How the client proves who it is.
package enum ClientCredentials: Sendable, Equatable {
    case none
    case basic(user: String, password: String)
    case token(String)

    var header: String? {
        switch self {
        case .none: nil
        case .basic(let user, let password): "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        case .token(let token): "Bearer " + token
        }
    }
}

/// The registry's `/v1` API over the project's libcurl client: JSON in and out, errors as the
/// server's message, pages followed.
package struct APIClient: Sendable {
    /// The server's root, `https://registry.example.org` (without `/v1`).
    package let root: String
    package let credentials: ClientCredentials
    package var options: HTTPConnectionOptions
    private let http = HTTPClient()

    package init(url: String, credentials: ClientCredentials, caBundle: String? = nil, insecure: Bool = false) throws {
        var root = url.trimmingCharacters(in: .whitespaces)
        while root.hasSuffix("/") { root.removeLast() }
        if root.hasSuffix("/v1") { root.removeLast(3) }
        guard let components = URLComponents(string: root), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", components.host?.isEmpty == false else {
            throw ClientError(.usage, "the registry URL must be http:// or https:// with a host, such as https://vice.example.org (got '\(url)')")
        }
        self.root = root
        self.credentials = credentials
        // No egress policy: the user chose this server. Long transfers may pause (a disk being
        // committed), so the idle limit is generous.
        self.options = HTTPConnectionOptions(caBundlePath: caBundle, insecure: insecure, connectTimeout: .seconds(15),
                                             idleTimeout: .seconds(120))
    }

    /// `path` under `/v1` (or from the root when it starts with `//`), with query items.
    package func url(_ path: String, query: [(String, String)] = []) -> String {
        var components = URLComponents()
        components.queryItems = query.isEmpty ? nil : query.map { URLQueryItem(name: $0.0, value: $0.1) }
        // `+` is a space to some servers: encode it.
        let encoded = (components.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B")
        let base = path.hasPrefix("//") ? root + path.dropFirst() : root + "/v1" + path
        return encoded.isEmpty ? base : base + "?" + encoded
    }

    /// Sends a request and returns the response once its head arrived; 4xx and 5xx become
    /// `ClientError`s with the server's message.
    package func send(_ method: String, _ path: String, query: [(String, String)] = [], headers: [(String, String)] = [],
                      body: HTTPRequestBody? = nil, accepting: Set<Int> = []) async throws -> HTTPClientResponse {
        var headers = headers.map { (name: $0.0, value: $0.1) }
        if let authorization = credentials.header { headers.append((name: "Authorization", value: authorization)) }
        headers.append((name: "User-Agent", value: "vice-client"))
        let request = HTTPClientRequest(method: method, url: url(path, query: query), headers: headers, body: body, options: options)
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request)
        } catch let error as HTTPClientError {
            throw ClientError(.unreachable, "cannot reach \(root): \(error.message)")
        }
        if response.status >= 400 && !accepting.contains(response.status) {
            let body = (try? await response.collect(upTo: 1 << 20)) ?? []
            throw ClientError.answer(status: response.status, body: body, retryAfter: response.header("Retry-After"))
        }
        return response
    }

    /// A JSON request; answers the decoded body (`.null` for an empty one) and the headers.
    @discardableResult
    package func json(_ method: String, _ path: String, query: [(String, String)] = [], body: JSONValue? = nil,
                      accepting: Set<Int> = []) async throws -> (value: JSONValue, response: HTTPClientResponse) {
        var headers = [("Accept", "application/json")]
        var requestBody: HTTPRequestBody?
        if let body {
            headers.append(("Content-Type", "application/json"))
            requestBody = HTTPRequestBody(bytes: try body.encoded())
        }
        let response = try await send(method, path, query: query, headers: headers, body: requestBody, accepting: accepting)
        let bytes: [UInt8]
        do {
            bytes = try await response.collect(upTo: 64 << 20)
        } catch {
            throw ClientError(.unreachable, "the answer from \(root) was cut off: \(error)")
        }
        guard !bytes.isEmpty else { return (.null, response) }
        do {
            return (try JSONValue.decode(bytes), response)
        } catch {
            throw ClientError(.refused, "the server's answer to \(method) \(path) is not JSON", status: response.status)
        }
    }

    /// Every item of a paged list: follows `X-Next-Marker` until the last page (or `limit` items).
    package func all(_ path: String, query: [(String, String)] = [], limit: Int? = nil) async throws -> [JSONValue] {
        var items: [JSONValue] = []
        var marker: String?
        repeat {
            var pageQuery = query
            if let marker { pageQuery.append(("marker", marker)) }
            let (value, response) = try await json("GET", path, query: pageQuery)
            items += value.arrayValue ?? []
            marker = response.header("X-Next-Marker")
            if let limit, items.count >= limit { return Array(items.prefix(limit)) }
        } while marker != nil
        return items
    }
}
