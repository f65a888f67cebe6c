import Foundation
import ViceConfig
import ViceCore

#if canImport(Glibc)
import Glibc
#endif

/// One registry the client knows: where it is and how to log in.
package struct ClientProfile: Codable, Sendable, Equatable {
    package var url: String
    package var user: String?
    /// An API token (what `vice login` stores by default) …
    package var token: String?
    /// … and its id, so that `vice logout` can revoke it.
    package var tokenId: String?
    /// … or a password, with `vice login --store-password`.
    package var password: String?
    package var caBundle: String?
    package var insecure: Bool?

    package init(url: String, user: String? = nil, token: String? = nil, tokenId: String? = nil, password: String? = nil,
                 caBundle: String? = nil, insecure: Bool? = nil) {
        self.url = url
        self.user = user
        self.token = token
        self.tokenId = tokenId
        self.password = password
        self.caBundle = caBundle
        self.insecure = insecure
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case url, user, token, tokenId, password, caBundle, insecure }
}

/// The client's file, `~/.config/vice/config.yaml` (mode 0600 in a 0700 folder): the profiles
/// and which one is current.
package struct ClientProfiles: Codable, Sendable, Equatable {
    package var current: String?
    package var profiles: [String: ClientProfile] = [:]

    package init() {}
    enum CodingKeys: String, CodingKey, CaseIterable { case current, profiles }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        current = try c.decodeIfPresent(String.self, forKey: .current)
        profiles = try c.decodeIfPresent([String: ClientProfile].self, forKey: .profiles) ?? [:]
    }

    /// `VICE_CONFIG`, else `$XDG_CONFIG_HOME/vice/config.yaml`, else `~/.config/vice/config.yaml`.
    package static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["VICE_CONFIG"], !path.isEmpty { return path }
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config")
        return base + "/vice/config.yaml"
    }

    /// The file's profiles; none when there is no file yet.
    package static func load(from path: String) throws -> ClientProfiles {
        guard FileManager.default.fileExists(atPath: path) else { return ClientProfiles() }
        do {
            // No ${VARIABLE} expansion: a token is taken as written.
            return try YAMLDecoder(environment: [:]).decode(ClientProfiles.self, fromFile: path)
        } catch {
            throw ClientError(.usage, "the client configuration \(path) is not valid: \(error)")
        }
    }

    /// Writes the file whole, readable only by its owner: a new file of a random name (a
    /// `SecretFile`: created 0600, never through a link, synced), then renamed over the old one.
    /// A folder that others may write to is refused: they could swap the file.
    package func save(to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try SecretFile.makePrivateDirectory(for: path)
        } catch {
            throw ClientError(.usage, "cannot make \(directory): \(error.localizedDescription)")
        }
        var folder = stat()
        guard stat(directory, &folder) == 0 else { throw ClientError(.usage, "cannot read \(directory): \(String(cString: strerror(errno)))") }
        if folder.st_mode & 0o022 != 0 && folder.st_mode & S_ISVTX == 0 {
            throw ClientError(.usage, "\(directory) may be written by others; make it private (chmod 700 \(directory)) before keeping credentials in it")
        }
        let temporary = directory + "/.config.yaml." + String(UInt64.random(in: .min ... .max), radix: 36) + ".tmp"
        do {
            try SecretFile.create(temporary, contents: Data(yaml.utf8))
        } catch {
            unlink(temporary)
            throw ClientError(.usage, "cannot write \(path): \(error)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ClientError(.usage, "cannot write \(path): \(reason)")
        }
    }

    /// The file's text: every value a double-quoted (JSON) string, which YAML reads as written.
    var yaml: String {
        var lines = ["# vice client profiles (vice login); keep this file private"]
        if let current { lines.append("current: \(quoted(current))") }
        lines.append(profiles.isEmpty ? "profiles: {}" : "profiles:")
        for (name, profile) in profiles.sorted(by: { $0.key < $1.key }) {
            lines.append("  \(quoted(name)):")
            lines.append("    url: \(quoted(profile.url))")
            for (key, value) in [("user", profile.user), ("token", profile.token), ("tokenId", profile.tokenId),
                                 ("password", profile.password), ("caBundle", profile.caBundle)] {
                if let value { lines.append("    \(key): \(quoted(value))") }
            }
            if let insecure = profile.insecure { lines.append("    insecure: \(insecure)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
