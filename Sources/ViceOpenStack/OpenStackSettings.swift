import Foundation
import ViceCore
import ViceHTTP

/// An OpenStack environment's settings, read from its credentials:
///
/// - `location`: the Keystone identity URL, with or without `/v3`;
/// - `username` / `password`: a Keystone user;
/// - `specifics`: `tenant` (or `project`, `TenantName`), `region` (or `Region`; empty or absent =
///   any), `domain` (or `Domain`; default `Default`), `userDomain` / `projectDomain` (default
///   `domain`), `interface` (`public`, `internal`, `admin`; default `public`), `imageEndpoint`
///   (a Glance URL that overrides the catalog), `visibility` (default `private`) for deployed
///   images, `caBundle`, `insecure`.
struct OpenStackSettings: Sendable, Hashable {
    var identityURL: String
    var username: String
    var password: String
    var project: String
    var userDomain: String
    var projectDomain: String
    var region: String?
    var interface: String
    var imageEndpoint: String?
    var visibility: String
    var connection: HTTPConnectionOptions

    init(_ environment: Environment, egress: EgressPolicy = .trusted) throws {
        let credentials = environment.credentials
        let specifics = credentials?.specifics?.unwrappingEncodedString
        func setting(_ names: String...) -> String? {
            for name in names {
                if let value = specifics?[name]?.textValue?.trimmingCharacters(in: .whitespaces) { return value }
            }
            return nil
        }
        guard let location = credentials?.location?.trimmingCharacters(in: .whitespaces), !location.isEmpty,
              location.hasPrefix("http://") || location.hasPrefix("https://") else {
            throw AdapterError(.invalidConfiguration,
                               "credentials.location must be the Keystone identity URL (http[s]://host:5000/v3), not '\(credentials?.location ?? "")'")
        }
        guard let username = credentials?.username, !username.isEmpty else {
            throw AdapterError(.invalidConfiguration, "credentials.username (a Keystone user) is missing")
        }
        guard let project = setting("tenant", "project", "TenantName", "projectName"), !project.isEmpty else {
            throw AdapterError(.invalidConfiguration, "credentials.specifics.tenant (the project name) is missing")
        }
        let domain = setting("domain", "Domain").flatMap { $0.isEmpty ? nil : $0 } ?? "Default"
        identityURL = location
        self.username = username
        password = credentials?.password ?? ""
        self.project = project
        userDomain = setting("userDomain", "user_domain_name").flatMap { $0.isEmpty ? nil : $0 } ?? domain
        projectDomain = setting("projectDomain", "project_domain_name").flatMap { $0.isEmpty ? nil : $0 } ?? domain
        region = setting("region", "Region").flatMap { $0.isEmpty ? nil : $0 }
        interface = (setting("interface") ?? "public").lowercased()
        guard ["public", "internal", "admin"].contains(interface) else {
            throw AdapterError(.invalidConfiguration, "specifics.interface is public, internal or admin, not '\(interface)'")
        }
        imageEndpoint = setting("imageEndpoint").flatMap { $0.isEmpty ? nil : $0 }
        try Self.check(location, what: "credentials.location", egress: egress)
        if let imageEndpoint { try Self.check(imageEndpoint, what: "specifics.imageEndpoint", egress: egress) }
        visibility = setting("visibility") ?? "private"
        connection = HTTPConnectionOptions(connectTimeout: .seconds(15), idleTimeout: .seconds(300), egress: egress)
        connection.caBundlePath = setting("caBundle")
        connection.insecure = specifics?["insecure"] == .bool(true)
    }

    /// Checks a URL where it enters: the location, a setting, or what Keystone and Glance send back
    /// (catalog endpoints, version links, `next` links).
    static func check(_ url: String, what: String, egress: EgressPolicy) throws {
        do {
            try egress.check(url: url, what: what)
        } catch let refusal as EgressRefusal {
            throw AdapterError(.invalidConfiguration, refusal.message)
        }
    }

    /// What a cached token is filed under: everything that decides which token Keystone issues.
    var cacheKey: String {
        [identityURL, username, password, userDomain, project, projectDomain].joined(separator: "\u{0}")
    }
}
