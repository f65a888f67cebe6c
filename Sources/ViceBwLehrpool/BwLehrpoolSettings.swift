import Foundation
import ViceCore

/// A bwLehrpool environment's settings:
///
/// - `location`: the satellite, `host` or `host:port` (Thrift; default 9091 with TLS, 9090 plain);
/// - `username` / `password`: a bwLehrpool master account;
/// - `specifics`: `masterHost` / `masterPort` (default the public master, 9091 with TLS),
///   `plain` (plain TCP for Thrift and transfers; test peers), `certSha256` (hex SHA-256 of the
///   satellite's certificate, pinned; otherwise the one the master publishes is used, then normal
///   verification against the system's roots or `caBundle`, a file of CA certificates), `insecure`
///   (no verification, only when asked), `osId`, `virtId` for deployed
///   images, `compress` (LZ4 on transfers, default true).
struct BwLehrpoolSettings: Sendable {
    static let publicMaster = "bwlp-masterserver.ruf.uni-freiburg.de"

    var satelliteHost: String
    var satellitePort: Int
    var masterHost: String
    var masterPort: Int
    var username: String
    var password: String
    var plain: Bool
    var pinnedSatellite: [UInt8]?
    var insecure: Bool
    var caBundle: String?
    var compress: Bool
    var osId: Int32?
    var virtId: String?

    init(_ environment: Environment) throws {
        let credentials = environment.credentials
        let specifics = credentials?.specifics?.unwrappingEncodedString
        let location = (credentials?.location ?? "").trimmingCharacters(in: .whitespaces)
        guard !location.isEmpty, !location.contains("/") else {
            throw AdapterError(.invalidConfiguration, "credentials.location must be the satellite's host or host:port, not '\(location)'")
        }
        guard let username = credentials?.username, !username.isEmpty else {
            throw AdapterError(.invalidConfiguration, "credentials.username (a bwLehrpool master account) is missing")
        }
        plain = specifics?["plain"] == .bool(true)
        let (host, port) = try Self.split(location, defaultPort: plain ? 9090 : 9091)
        satelliteHost = host
        satellitePort = port
        let masterLocation = specifics?["masterHost"]?.textValue ?? Self.publicMaster
        let (mHost, mPort) = try Self.split(masterLocation, defaultPort: plain ? 9090 : 9091)
        masterHost = mHost
        masterPort = specifics?["masterPort"]?.textValue.flatMap { Int($0) } ?? mPort
        self.username = username
        password = credentials?.password ?? ""
        insecure = specifics?["insecure"] == .bool(true)
        caBundle = specifics?["caBundle"]?.stringValue
        compress = specifics?["compress"] != .bool(false)
        if let hex = specifics?["certSha256"]?.stringValue {
            guard let bytes = [UInt8](hex: hex.replacingOccurrences(of: ":", with: "")), bytes.count == 32 else {
                throw AdapterError(.invalidConfiguration, "specifics.certSha256 must be 64 hex digits")
            }
            pinnedSatellite = bytes
        }
        osId = specifics?["osId"]?.textValue.flatMap { Int32($0) }
        virtId = specifics?["virtId"]?.stringValue
    }

    static func split(_ location: String, defaultPort: Int) throws -> (String, Int) {
        guard let colon = location.lastIndex(of: ":"), !location.hasSuffix("]") else { return (location, defaultPort) }
        guard let port = Int(location[location.index(after: colon)...]), (1...65535).contains(port) else {
            throw AdapterError(.invalidConfiguration, "'\(location)' has no valid port")
        }
        return (String(location[..<colon]), port)
    }

    /// TLS for the master: verified unless plain or explicitly insecure.
    var masterSecurity: TransportSecurity { plain ? .plain : insecure ? .insecure : .verified(caBundle: caBundle) }

    /// TLS for the satellite: pinned by the configured hash, else by the one the master publishes
    /// for this host, else verified (or insecure when asked).
    func satelliteSecurity(published: [ClientSessionData.Satellite]) -> TransportSecurity {
        if plain { return .plain }
        if let pinnedSatellite { return .pinned(sha256: pinnedSatellite) }
        if let hash = published.first(where: { $0.addressList.contains(satelliteHost) })?.certSha256, hash.count == 32 {
            return .pinned(sha256: hash)
        }
        return insecure ? .insecure : .verified(caBundle: caBundle)
    }
}
