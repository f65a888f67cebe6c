import Foundation

/// Which addresses an environment's adapter may connect to. It is checked twice: when a URL or
/// host enters (a literal address, the scheme) and against every *resolved* address when a
/// connection opens, so a DNS name that resolves into a refused range — or is re-pointed there
/// after the first check (DNS rebinding) — is refused too.
///
/// Link-local ranges (169.254.0.0/16, where clouds serve instance metadata, and fe80::/10) are
/// refused always. Loopback and unix sockets are for trusted environments only: those an admin
/// created or the configuration declares.
public struct EgressPolicy: Sendable, Hashable {
    /// Loopback addresses (127.0.0.0/8, ::1, and 0.0.0.0, which reaches this host) may be used.
    public var allowLoopback: Bool
    /// Unix sockets (a Docker engine's socket) may be used.
    public var allowUnixSockets: Bool
    /// When not empty, only these ranges may be reached (loopback aside, when allowed).
    public var allowed: [IPRange]
    /// Never reached, whatever else says.
    public var denied: [IPRange]

    public init(allowLoopback: Bool = false, allowUnixSockets: Bool = false, allowed: [IPRange] = [], denied: [IPRange] = []) {
        self.allowLoopback = allowLoopback
        self.allowUnixSockets = allowUnixSockets
        self.allowed = allowed
        self.denied = denied
    }

    /// For the operator's own environments and tools: loopback and sockets allowed, link-local not.
    public static let trusted = EgressPolicy(allowLoopback: true, allowUnixSockets: true)

    /// Why a connection to `address` (4 or 16 bytes) is refused; nil when it may be made.
    public func refusal(for address: [UInt8]) -> String? {
        let text = IPRange.format(IPRange.unmapped(address))
        if let range = IPRange.linkLocal.first(where: { $0.contains(address) }) {
            return "\(text) is link-local (\(range)), which environments may never reach"
        }
        if let range = denied.first(where: { $0.contains(address) }) {
            return "\(text) lies in \(range), which security.egress.deny refuses"
        }
        if IPRange.loopback.contains(where: { $0.contains(address) }) {
            return allowLoopback ? nil
                : "\(text) is this host's loopback, which only environments an admin created or the configuration declares may reach"
        }
        if !allowed.isEmpty, !allowed.contains(where: { $0.contains(address) }) {
            return "\(text) is outside the ranges security.egress.allow permits"
        }
        return nil
    }

    /// Checks a URL where it enters an adapter (a location, a setting, a link a remote system
    /// sent): http or https only, a host, no credentials in it, and no refused literal address.
    /// Names are checked again at connect time, after they resolve.
    public func check(url text: String, what: String) throws {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw EgressRefusal("\(what) is not an absolute URL")
        }
        guard scheme == "http" || scheme == "https" else {
            throw EgressRefusal("\(what) uses the \(scheme) scheme; only http and https URLs are followed")
        }
        guard let host = components.host, !host.isEmpty else { throw EgressRefusal("\(what) names no host") }
        guard components.user == nil, components.password == nil else {
            throw EgressRefusal("\(what) carries user information; give credentials in the environment's fields")
        }
        try check(host: host, what: what)
    }

    /// Checks a host name or literal address (a bwLehrpool satellite, a Docker `tcp://` engine).
    public func check(host: String, what: String) throws {
        // Letters, digits, dots and dashes (and the colons and brackets of IPv6 literals) only: a NUL
        // or other control character could make the name the resolver sees differ from the checked one.
        guard !host.isEmpty, host.utf8.count <= 253,
              host.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-:[]".unicodeScalars.contains($0)) }) else {
            throw EgressRefusal("\(what) has no valid host name")
        }
        if let address = IPRange.parseAddress(host), let reason = refusal(for: address) {
            throw EgressRefusal("\(what) is refused: \(reason)")
        }
        if !allowLoopback, host.lowercased() == "localhost" || host.lowercased().hasSuffix(".localhost") {
            throw EgressRefusal("\(what) is refused: localhost is this host's loopback, which only environments an admin created or the configuration declares may reach")
        }
    }

    /// Checks a unix socket path.
    public func check(unixSocket path: String, what: String) throws {
        guard allowUnixSockets else {
            throw EgressRefusal("\(what) is a unix socket on the registry's host; only environments an admin created or the configuration declares may use one")
        }
        guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            throw EgressRefusal("\(what) must be an absolute socket path without '..'")
        }
    }
}

/// A connection or URL the egress policy refuses. Not transient: retrying changes nothing.
public struct EgressRefusal: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
