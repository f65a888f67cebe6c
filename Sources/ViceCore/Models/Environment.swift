public import Foundation

/// How to reach and log in to an execution environment. `password` is write-only: the API never
/// returns it, and it is stored encrypted.
public struct Credentials: Sendable, Hashable, Codable {
    public var location: String?
    public var username: String?
    public var password: String?
    /// Adapter-specific settings (for OpenStack: `tenant`, `region`, `domain`, …).
    public var specifics: JSONValue?

    public init(location: String? = nil, username: String? = nil, password: String? = nil, specifics: JSONValue? = nil) {
        self.location = location
        self.username = username
        self.password = password
        self.specifics = specifics
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        location = try c.decodeIfPresent(String.self, forKey: .location)
        username = try c.decodeIfPresent(String.self, forKey: .username)
        password = try c.decodeIfPresent(String.self, forKey: .password)
        specifics = try c.decodeIfPresent(JSONValue.self, forKey: .specifics)?.unwrappingEncodedString
    }

    /// The same credentials without the password, for responses.
    public var redacted: Credentials {
        var copy = self
        copy.password = nil
        return copy
    }
}

/// The seed's `RuntimeTechnology.type` enum.
public enum RuntimeTechnologyType: String, Sendable, Hashable, Codable, CaseIterable {
    case virtualmachine, container, application
}

/// The seed's `ManagementLayer.type` enum.
public enum ManagementLayerType: String, Sendable, Hashable, Codable, CaseIterable {
    case basic, cloudcomputing, containercluster, jobscheduler
}

public struct RuntimeTechnology: Sendable, Hashable, Codable {
    public var type: RuntimeTechnologyType?
    public var software: String?
    public var version: String?

    public init(type: RuntimeTechnologyType? = nil, software: String? = nil, version: String? = nil) {
        self.type = type
        self.software = software
        self.version = version
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decodeLenientEnum(RuntimeTechnologyType.self, forKey: .type)
        software = try c.decodeIfPresent(String.self, forKey: .software)
        version = try c.decodeIfPresent(String.self, forKey: .version)
    }
}

public struct ManagementLayer: Sendable, Hashable, Codable {
    public var type: ManagementLayerType?
    /// Selects the adapter: `openstack`, `docker`, `bwlehrpool`, … (compared case-insensitively).
    public var software: String?
    public var version: String?

    public init(type: ManagementLayerType? = nil, software: String? = nil, version: String? = nil) {
        self.type = type
        self.software = software
        self.version = version
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decodeLenientEnum(ManagementLayerType.self, forKey: .type)
        software = try c.decodeIfPresent(String.self, forKey: .software)
        version = try c.decodeIfPresent(String.self, forKey: .version)
    }
}

/// An execution environment (an OpenStack project, a Docker engine, a bwLehrpool satellite, …).
public struct Environment: Sendable, Hashable, Codable {
    public var id: String?
    public var title: String?
    public var userid: String?
    public var credentials: Credentials?
    public var runtimetechnology: RuntimeTechnology?
    public var managementlayer: ManagementLayer?
    /// Added to the seed: when the record was created and last changed.
    public var createdAt: Date?
    public var updatedAt: Date?
    /// Added to the seed: true for environments declared in the configuration, which the API
    /// shows but does not change or delete.
    public var readOnly: Bool?
    /// Added to the seed: user names the owner shares the environment with. Members may use it
    /// for imports, deployments, health and listings; they never see its credentials, and only
    /// the owner (or an admin) changes or deletes it.
    public var members: [String]?

    public init(
        id: String? = nil, title: String? = nil, userid: String? = nil, credentials: Credentials? = nil,
        runtimetechnology: RuntimeTechnology? = nil, managementlayer: ManagementLayer? = nil,
        createdAt: Date? = nil, updatedAt: Date? = nil
    ) {
        self.id = id
        self.title = title
        self.userid = userid
        self.credentials = credentials
        self.runtimetechnology = runtimetechnology
        self.managementlayer = managementlayer
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The adapter key: `managementlayer.software`, lower-cased.
    public var adapterKind: String? {
        guard let software = managementlayer?.software?.trimmingCharacters(in: .whitespaces), !software.isEmpty
        else { return nil }
        return software.lowercased()
    }

    /// The same environment without any password, for responses and logs.
    public var redacted: Environment {
        var copy = self
        copy.credentials = credentials?.redacted
        return copy
    }
}

extension KeyedDecodingContainer {
    /// Decodes an optional enum, treating an empty string as absent (the original web UI sends
    /// empty types) and naming the allowed values when the value is unknown.
    func decodeLenientEnum<E: RawRepresentable & CaseIterable>(_ type: E.Type, forKey key: Key) throws -> E?
    where E.RawValue == String {
        guard let raw = try decodeIfPresent(String.self, forKey: key), !raw.isEmpty else { return nil }
        guard let value = E(rawValue: raw) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw DecodingError.dataCorruptedError(
                forKey: key, in: self, debugDescription: "'\(raw)' is not one of: \(allowed)")
        }
        return value
    }
}

extension Environment {
    /// Whether `user` may use this stored environment: its owner, an admin, or a member.
    public func isUsable(by user: UserRecord) -> Bool {
        user.mayManage(userid) || (members ?? []).contains { $0.lowercased() == user.username.lowercased() }
    }
}
