import Crypto
import Foundation
import ViceCore
import ViceHTTP

/// Keystone v3 password authentication, project-scoped, with a process-wide token cache: jobs for
/// the same user and project share one token until shortly before it expires.
struct Keystone: Sendable {
    let settings: OpenStackSettings
    let client: HTTPClient

    private static let cache = LockedBox<[String: KeystoneToken]>([:])

    /// A fresh token: the cached one, or a new one. `renew` skips the cache (after a 401).
    func token(renew: Bool = false) async throws -> KeystoneToken {
        let key = Self.cacheKey(settings)
        if !renew, let cached = Self.cache.withLock({ $0[key] }), cached.isFresh() { return cached }
        let token = try await authenticate()
        Self.cache.withLock { $0[key] = token }
        return token
    }

    /// Forgets the cached token (Glance refused it).
    func invalidate() {
        let key = Self.cacheKey(settings)
        Self.cache.withLock { $0[key] = nil }
    }

    /// The key keeps no password in memory: a SHA-256 over the settings that pick the token.
    private static func cacheKey(_ settings: OpenStackSettings) -> String {
        SHA256.hash(data: Data(settings.cacheKey.utf8)).hexString
    }

    // MARK: authentication

    private func authenticate() async throws -> KeystoneToken {
        let base = try await identityBase()
        let body: [String: Any] = [
            "auth": [
                "identity": [
                    "methods": ["password"],
                    "password": ["user": ["name": settings.username, "domain": ["name": settings.userDomain],
                                          "password": settings.password]],
                ],
                "scope": ["project": ["name": settings.project, "domain": ["name": settings.projectDomain]]],
            ],
        ]
        let url = base + "/auth/tokens"
        let response = try await send(HTTPClientRequest(
            method: "POST", url: url,
            headers: [("Content-Type", "application/json"), ("Accept", "application/json")],
            body: HTTPRequestBody(bytes: Array(try JSONSerialization.data(withJSONObject: body))),
            options: settings.connection), what: "Keystone at \(url)")
        let bytes = try await response.collect(upTo: 8 << 20)
        switch response.status {
        case 201, 202: break
        case 401:
            throw AdapterError(.authenticationFailed,
                               "Keystone refused the credentials of user '\(settings.username)' (domain '\(settings.userDomain)') for project '\(settings.project)' (domain '\(settings.projectDomain)')")
        case 404 where Self.keystoneMessage(bytes)?.contains("project") == true:
            throw AdapterError(.authenticationFailed, "Keystone: \(Self.keystoneMessage(bytes) ?? "unknown project")")
        case 500...:
            throw AdapterError(.unavailable, "Keystone at \(url) failed with HTTP \(response.status): \(Self.keystoneMessage(bytes) ?? "")")
        default:
            throw AdapterError(.remoteError, "Keystone at \(url) answered HTTP \(response.status): \(Self.keystoneMessage(bytes) ?? "")")
        }
        guard let value = response.header("X-Subject-Token"), !value.isEmpty else {
            throw AdapterError(.remoteError, "Keystone at \(url) issued no X-Subject-Token")
        }
        let decoded: KeystoneTokenResponse
        do {
            decoded = try JSONDecoder().decode(KeystoneTokenResponse.self, from: Data(bytes))
        } catch {
            throw AdapterError(.remoteError, "Keystone at \(url) sent a token body this adapter cannot read: \(error)")
        }
        return KeystoneToken(value: value,
                             expiresAt: KeystoneToken.parseExpiry(decoded.token.expires_at) ?? Date().addingTimeInterval(600),
                             catalog: decoded.token.catalog ?? [])
    }

    /// The v3 base URL: the location when it ends in `/v3`, else the `v3` entry of the version
    /// document it serves, else `<location>/v3`.
    func identityBase() async throws -> String {
        let location = Self.trimmingSlashes(settings.identityURL)
        if location.hasSuffix("/v3") { return location }
        if location.hasSuffix("/v2.0") {
            throw AdapterError(.invalidConfiguration, "Keystone v2.0 (\(location)) is not supported: use the v3 identity URL")
        }
        var tried = [location]
        if let response = try? await client.execute(HTTPClientRequest(
            url: location, headers: [("Accept", "application/json")], options: settings.connection)),
           let bytes = try? await response.collect(upTo: 1 << 20), response.status == 200 || response.status == 300,
           let document = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] {
            let versions = (document["versions"] as? [String: Any])?["values"] as? [[String: Any]]
                ?? (document["version"] as? [String: Any]).map { [$0] } ?? []
            for version in versions {
                guard let id = version["id"] as? String, id.hasPrefix("v3"),
                      ["stable", "current", "supported"].contains((version["status"] as? String)?.lowercased() ?? "") else { continue }
                let links = version["links"] as? [[String: Any]] ?? []
                if let link = links.first(where: { $0["rel"] as? String == "self" })?["href"] as? String {
                    try OpenStackSettings.check(link, what: "the v3 link Keystone's version document gives", egress: egress)
                    return Self.trimmingSlashes(link)
                }
            }
        }
        tried.append(location + "/v3")
        let probe = try? await client.execute(HTTPClientRequest(
            url: location + "/v3", headers: [("Accept", "application/json")], options: settings.connection))
        if let probe, probe.status == 200 {
            _ = try? await probe.collect(upTo: 1 << 20)
            return location + "/v3"
        }
        throw AdapterError(.unavailable, "no Keystone v3 API found (tried \(tried.joined(separator: ", ")))")
    }

    // MARK: catalog

    /// The Glance v2 base URL (ending in `/v2`): the `imageEndpoint` setting, or the catalog's
    /// `image` endpoint of the configured interface and region.
    func imageEndpoint(in token: KeystoneToken) throws -> String {
        if let override = settings.imageEndpoint { return Self.glanceV2(override) }
        let endpoint = try catalogEndpoint(in: token)
        try OpenStackSettings.check(endpoint, what: "the image endpoint in Keystone's catalog", egress: egress)
        return endpoint
    }

    var egress: EgressPolicy { settings.connection.egress ?? .trusted }

    private func catalogEndpoint(in token: KeystoneToken) throws -> String {
        let candidates = token.catalog.filter { $0.type == "image" }.flatMap(\.endpoints)
        let matches = candidates.filter { endpoint in
            endpoint.interface == settings.interface
                && (settings.region == nil || endpoint.region_id == settings.region || endpoint.region == settings.region)
        }
        guard matches.count == 1 else {
            let available = candidates.map { "(\($0.interface), \($0.region_id ?? $0.region ?? "no region"))" }
            let wanted = "interface \(settings.interface)\(settings.region.map { ", region \($0)" } ?? "")"
            throw AdapterError(.invalidConfiguration, matches.isEmpty
                ? "the catalog has no image endpoint for \(wanted); available: \(available.isEmpty ? "none" : available.joined(separator: ", "))"
                : "the catalog has \(matches.count) image endpoints for \(wanted); set specifics.region to pick one of \(available.joined(separator: ", "))")
        }
        return Self.glanceV2(matches[0].url)
    }

    /// `<url>/v2`, unless the URL already names a v2 version (`…/v2`, `…/v2.1`).
    static func glanceV2(_ url: String) -> String {
        let trimmed = trimmingSlashes(url)
        let last = trimmed.split(separator: "/").last.map(String.init) ?? ""
        if last == "v2" || last.hasPrefix("v2.") { return trimmed }
        return trimmed + "/v2"
    }

    static func trimmingSlashes(_ url: String) -> String {
        var url = url
        while url.hasSuffix("/") { url.removeLast() }
        return url
    }

    // MARK: helpers

    private func send(_ request: HTTPClientRequest, what: String) async throws -> HTTPClientResponse {
        do {
            return try await client.execute(request)
        } catch let error as HTTPClientError {
            throw AdapterError(.unavailable, "\(what) cannot be reached: \(error.message)", transient: error.isTransient)
        }
    }

    /// `{"error": {"message": …}}`, Keystone's error body, bounded and printable only: the
    /// server is the caller's choice, so nothing else of its answer is repeated.
    static func keystoneMessage(_ bytes: [UInt8]) -> String? {
        let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        return ((object?["error"] as? [String: Any])?["message"] as? String).map { RemoteText.excerpt($0) }
    }
}
