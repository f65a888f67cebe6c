import Foundation
package import ViceCore

/// One environment declared in the configuration:
///
/// ```yaml
/// - id: campus-cloud                 # letters, digits, '.', '_', '-'
///   title: Campus OpenStack
///   managementlayer: {type: cloudcomputing, software: openstack}
///   runtimetechnology: {type: virtualmachine, software: kvm}
///   credentials:
///     location: https://keystone.example.org:5000/v3
///     username: vice
///     password: file:/etc/vice/secrets/campus   # or ${CAMPUS_PASSWORD}
///     specifics: {tenant: demo}
///   users: all                       # or [alice, bob]
/// ```
///
/// `file:PATH` in `location`, `username` or `password` is replaced by the file's content without
/// its trailing newline (relative paths from the directory the server starts in).
package struct EnvironmentDefinition: Decodable, Sendable, Equatable {
    package var id: String
    package var title: String
    package var managementlayer: ManagementLayer
    package var runtimetechnology: RuntimeTechnology?
    package var credentials: Credentials?
    /// nil = every user.
    package var users: Set<String>?

    enum CodingKeys: String, CodingKey, CaseIterable { case id, title, managementlayer, runtimetechnology, credentials, users }
    enum CredentialKeys: String, CodingKey, CaseIterable { case location, username, password, specifics }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        guard !id.isEmpty, id.count <= 64, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw DecodingError.dataCorruptedError(forKey: .id, in: c,
                                                   debugDescription: "'\(id)' is not an id (1-64 letters, digits, '.', '_', '-')")
        }
        title = try c.decodeIfPresent(String.self, forKey: .title) ?? id
        managementlayer = try c.decode(ManagementLayer.self, forKey: .managementlayer)
        guard let software = managementlayer.software, !software.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .managementlayer, in: c,
                                                   debugDescription: "managementlayer.software is required (it selects the adapter)")
        }
        runtimetechnology = try c.decodeIfPresent(RuntimeTechnology.self, forKey: .runtimetechnology)
        if c.contains(.credentials) {
            let k = try c.nestedContainer(keyedBy: CredentialKeys.self, forKey: .credentials)
            func secret(_ key: CredentialKeys) throws -> String? {
                guard let value = try k.decodeIfPresent(String.self, forKey: key) else { return nil }
                return try ConfigSecret.resolve(value, forKey: key, in: k)
            }
            credentials = Credentials(location: try secret(.location), username: try secret(.username),
                                      password: try secret(.password),
                                      specifics: try k.decodeIfPresent(JSONValue.self, forKey: .specifics))
        }
        // Who may use it must be said: `all`, or a list of usernames.
        if let all = try? c.decode(String.self, forKey: .users) {
            guard all == "all" else {
                throw DecodingError.dataCorruptedError(forKey: .users, in: c, debugDescription: "'\(all)' is neither 'all' nor a list of usernames")
            }
            users = nil
        } else {
            users = Set(try c.decode([String].self, forKey: .users))
        }
    }

    /// The registry's view, declared at `source`.
    package func configured(source: String) -> ConfiguredEnvironment {
        ConfiguredEnvironment(
            environment: Environment(id: id, title: title, credentials: credentials,
                                     runtimetechnology: runtimetechnology, managementlayer: managementlayer),
            users: users, source: source)
    }
}

/// A file of `environments.d`: `environments:` and a list.
struct EnvironmentFile: Decodable {
    var environments: [EnvironmentDefinition]

    enum CodingKeys: String, CodingKey, CaseIterable { case environments }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        environments = try c.decodeIfPresent([EnvironmentDefinition].self, forKey: .environments) ?? []
    }
}
