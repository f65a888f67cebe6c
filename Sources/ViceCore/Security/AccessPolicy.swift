import Foundation

/// Who may point the registry at what, per adapter kind: whether users who are not admins may
/// use environments of that kind they define themselves, and which locations they may name.
/// Admins and environments declared in the configuration are trusted and only bound by the
/// egress policy's ranges.
package struct AdapterAccessRule: Sendable, Hashable {
    /// Whether non-admin users may create (and use) environments of this kind.
    package var usersMayCreate: Bool
    /// Locations a non-admin may use; empty = any the egress policy permits.
    package var locations: [LocationPattern]

    package init(usersMayCreate: Bool = true, locations: [LocationPattern] = []) {
        self.usersMayCreate = usersMayCreate
        self.locations = locations
    }
}

/// A location pattern: a URL prefix (`https://keystone.example.org:5000/`), a host name with an
/// optional leading wildcard (`*.example.org`, `sat.example.org`), or an address range
/// (`10.20.0.0/16`, which matches literal addresses only: name them by host otherwise).
package struct LocationPattern: Sendable, Hashable, CustomStringConvertible {
    package let text: String

    package init?(_ text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, !trimmed.contains(where: \.isWhitespace) else { return nil }
        self.text = trimmed
    }

    package var description: String { text }

    package func matches(_ location: String) -> Bool {
        let location = location.trimmingCharacters(in: .whitespaces)
        if text.contains("://") {
            return location.lowercased().hasPrefix(text.lowercased())
        }
        guard let host = LocationPattern.host(of: location)?.lowercased() else { return false }
        if text.contains("/") || IPRange.parseAddress(text) != nil, let range = IPRange(text) {
            return IPRange.parseAddress(host).map(range.contains) ?? false
        }
        let pattern = text.lowercased()
        if pattern.hasPrefix("*.") { return host.hasSuffix(pattern.dropFirst()) }
        return host == pattern
    }

    /// The host of `scheme://host:port/…`, `host:port` or `host` (brackets kept off IPv6).
    package static func host(of location: String) -> String? {
        var rest = Substring(location)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        rest = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            return String(rest[rest.index(after: rest.startIndex)..<close])
        }
        if rest.filter({ $0 == ":" }).count > 1 { return String(rest) }  // a bare IPv6 address
        let host = rest.prefix { $0 != ":" }
        return host.isEmpty ? nil : String(host)
    }
}

/// The registry's security policy for environments: the egress ranges and the rule per adapter.
package struct EnvironmentPolicy: Sendable, Hashable {
    package var egress: EgressPolicy
    /// By adapter kind (lower case); kinds without a rule get `defaultRule`.
    package var rules: [String: AdapterAccessRule]
    package var defaultRule: AdapterAccessRule

    package init(egress: EgressPolicy = EgressPolicy(), rules: [String: AdapterAccessRule] = [:],
                defaultRule: AdapterAccessRule = AdapterAccessRule()) {
        self.egress = egress
        self.rules = rules
        self.defaultRule = defaultRule
    }

    package func rule(for kind: String) -> AdapterAccessRule {
        rules[kind.lowercased()] ?? defaultRule
    }

    /// The egress an environment gets: trusted ones may reach loopback and unix sockets.
    package func egress(trusted: Bool) -> EgressPolicy {
        var policy = egress
        policy.allowLoopback = trusted
        policy.allowUnixSockets = trusted
        return policy
    }

    /// Refuses an environment its owner may not use: a kind closed to users, a location outside
    /// the allowed patterns, or a location the egress policy refuses on its face (a link-local
    /// or loopback literal, a unix socket). Trusted environments skip the per-kind rule.
    package func authorize(_ environment: Environment, trusted: Bool) throws {
        guard let kind = environment.adapterKind else { return }
        let location = environment.credentials?.location?.trimmingCharacters(in: .whitespaces) ?? ""
        // Settings that name a second place to connect to are held to the same patterns.
        let specifics = environment.credentials?.specifics?.unwrappingEncodedString
        let others = Self.locationSettings.compactMap { key in specifics?[key]?.textValue.map { (key, $0) } }
        if !trusted {
            let rule = rule(for: kind)
            guard rule.usersMayCreate else {
                throw ViceError(.invalidInput, "only admins may define \(kind) environments on this registry")
            }
            if !rule.locations.isEmpty {
                if !rule.locations.contains(where: { $0.matches(location) }) {
                    throw ViceError(.invalidInput, "location '\(RemoteText.excerpt(location, limit: 200))' is not one this registry lets users use for \(kind) environments (allowed: \(rule.locations.map(\.text).joined(separator: ", ")))")
                }
                for (key, value) in others where !rule.locations.contains(where: { $0.matches(value) }) {
                    throw ViceError(.invalidInput, "specifics.\(key) '\(RemoteText.excerpt(value, limit: 200))' is not one this registry lets users use for \(kind) environments")
                }
            }
        }
        let egress = egress(trusted: trusted)
        do {
            if location.hasPrefix("unix://") || location.hasPrefix("/") {
                try egress.check(unixSocket: location.hasPrefix("unix://") ? String(location.dropFirst(7)) : location, what: "credentials.location")
            } else if location.contains("://") {
                if let host = LocationPattern.host(of: location) { try egress.check(host: host, what: "credentials.location") }
            } else if !location.isEmpty, let host = LocationPattern.host(of: location), host.contains(".") || host.contains(":") || host == "localhost" {
                try egress.check(host: host, what: "credentials.location")
            }
        } catch let refusal as EgressRefusal {
            throw ViceError(.invalidInput, refusal.message)
        }
    }

    /// Specifics that name a host or URL the adapter connects to besides the location.
    static let locationSettings = ["imageEndpoint", "masterHost"]
}
