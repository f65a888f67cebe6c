import ArgumentParser
import Foundation
import ViceClient
import ViceCore

#if canImport(Glibc)
import Glibc
#endif

/// `vice login URL`: checks the credentials and keeps a profile. By default the password is
/// traded for an API token (the password is not stored); `--store-password` keeps the password.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in to a registry and keep the profile (~/.config/vice/config.yaml, mode 0600).")

    @Argument(help: "The registry's URL, such as https://vice.example.org.")
    var url: String

    @Option(help: "The profile's name.")
    var profile = "default"

    @Option(help: "The user name (default: VICE_USER, else asked).")
    var user: String?

    @Flag(help: "Read the password from standard input (default: VICE_PASSWORD, else asked).")
    var passwordStdin = false

    @Flag(help: "Read an API token from standard input instead of logging in with a password.")
    var withToken = false

    @Flag(help: "Keep the password in the profile instead of an API token.")
    var storePassword = false

    @Option(help: "The scope of the token made: read, deploy or admin (default: all the user may do).")
    var scope: String?

    @Option(help: "Days until the token made expires.")
    var expiresInDays = 90

    @Option(help: "A PEM file of certificate authorities to trust for the registry's TLS.")
    var caBundle: String?

    @Flag(help: "Do not verify the registry's TLS certificate (testing only).")
    var insecure = false

    func run() async throws {
        try await reportingClientErrors { try await login() }
    }

    private func login() async throws {
        let environment = ProcessInfo.processInfo.environment
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        var entry = ClientProfile(url: url, caBundle: caBundle, insecure: insecure ? true : nil)
        let credentials: ClientCredentials
        // A token only when asked for: one exported for another registry is never sent here.
        if withToken {
            guard let token = Self.readLine() else {
                throw ClientError(.usage, "no token on standard input")
            }
            credentials = .token(token)
            entry.token = token
        } else {
            guard let user = user ?? value("VICE_USER") ?? Self.ask("User: ") else {
                throw ClientError(.usage, "no user name: give --user or VICE_USER")
            }
            let password = passwordStdin ? Self.readLine() : value("VICE_PASSWORD") ?? ClientSetup.readPassword("Password for \(user): ")
            guard let password else { throw ClientError(.usage, "no password: give --password-stdin or VICE_PASSWORD, or run on a terminal") }
            credentials = .basic(user: user, password: password)
            entry.user = user
        }
        let api = try APIClient(url: url, credentials: credentials, caBundle: caBundle, insecure: insecure)
        entry.url = api.root
        let (me, _) = try await api.json("GET", "/user")
        let username = me["username"]?.textValue ?? entry.user ?? "?"
        entry.user = username
        if case .basic(_, let password) = credentials {
            if storePassword {
                entry.password = password
            } else {
                let token = try await makeToken(api, admin: me["admin"] == .bool(true))
                entry.token = token["token"]?.textValue
                entry.tokenId = token["id"]?.textValue
            }
        }
        let path = ClientProfiles.path()
        var profiles = try ClientProfiles.load(from: path)
        profiles.profiles[profile] = entry
        profiles.current = profile
        try profiles.save(to: path)
        print("logged in to \(api.root) as \(username) (profile \(profile)"
              + (entry.tokenId != nil ? ", token \(entry.tokenId!), expires in \(expiresInDays) days" : "") + ")")
    }

    private func makeToken(_ api: APIClient, admin: Bool) async throws -> JSONValue {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let name = "vice client on \(hostName.isEmpty ? "?" : hostName)"
        let scopes = scope.map { [$0] } ?? (admin ? ["admin"] : ["deploy", "read"])
        var lastError: ClientError?
        for scope in scopes {
            do {
                let body: JSONValue = .object(["name": .string(String(name.prefix(64))), "scope": .string(scope),
                                               "expiresInDays": .number(Double(expiresInDays))])
                return try await api.json("POST", "/user/tokens", body: body).value
            } catch let error as ClientError where error.kind == .authentication && error.status == 403 {
                lastError = error   // a reader cannot make a deploy token: try the next scope
            }
        }
        throw lastError ?? ClientError(.refused, "no token was made")
    }

    static func readLine() -> String? {
        Swift.readLine(strippingNewline: true).flatMap { $0.isEmpty ? nil : $0 }
    }

    static func ask(_ prompt: String) -> String? {
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        FileHandle.standardError.write(Data(prompt.utf8))
        return readLine()
    }
}

/// `vice logout`: revokes the profile's token on the server and forgets the profile.
struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Revoke the profile's token and remove the profile.")

    @Option(help: "The profile (default: the current one).")
    var profile: String?

    func run() async throws {
        try await reportingClientErrors {
            let path = ClientProfiles.path()
            var profiles = try ClientProfiles.load(from: path)
            guard let name = profile ?? profiles.current, let entry = profiles.profiles[name] else {
                throw ClientError(.usage, "no such profile in \(path)")
            }
            if let token = entry.token, let id = entry.tokenId {
                let api = try APIClient(url: entry.url, credentials: .token(token), caBundle: entry.caBundle, insecure: entry.insecure == true)
                do {
                    try await api.json("DELETE", "/user/tokens/\(id)")
                } catch let error as ClientError where error.kind == .authentication || error.kind == .notFound {
                    // Expired or revoked already.
                }
            }
            profiles.profiles[name] = nil
            if profiles.current == name { profiles.current = profiles.profiles.keys.sorted().first }
            try profiles.save(to: path)
            print("logged out of \(entry.url) (profile \(name) removed)")
        }
    }
}
