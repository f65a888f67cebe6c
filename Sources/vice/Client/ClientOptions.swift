import ArgumentParser
import Foundation
import ViceClient
import ViceCore

#if canImport(Glibc)
import Glibc
#endif

/// The options every client command shares: which registry, as whom, and how to print.
struct ClientOptions: ParsableArguments {
    @Option(help: "The profile of the client configuration to use (default: VICE_PROFILE, else the current one).")
    var profile: String?

    @Option(help: "The registry's URL, instead of the profile's (also VICE_URL).")
    var url: String?

    @Option(help: "The user name, instead of the profile's (also VICE_USER; the password comes from VICE_PASSWORD or a prompt).")
    var user: String?

    @Option(name: [.customShort("o"), .customLong("output")], help: "Output format: table, json, yaml, or id (only the ids, one per line).")
    var output: OutputFormat = .table

    @Option(help: "A PEM file of certificate authorities to trust for the registry's TLS.")
    var caBundle: String?

    @Flag(help: "Do not verify the registry's TLS certificate (testing only).")
    var insecure = false
}

extension OutputFormat: ExpressibleByArgument {}

/// What a client command works with: the API, and how to print.
struct ClientContext {
    let api: APIClient
    let output: OutputFormat
    let profileName: String?

    /// Prints a record or a list in the chosen format.
    func show(_ value: JSONValue, columns: [(header: String, field: String)]) {
        FileHandle.standardOutput.write(Data(output.render(value, columns: columns).utf8))
    }

    /// A line for people (the table format only: scripts asked for data).
    func say(_ text: String) {
        guard output == .table else { return }
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Where to draw a progress bar: standard error, when it is a terminal.
    func progress(_ label: String, total: Int64? = nil) -> TransferProgress {
        TransferProgress(label: label, total: total)
    }

    var watcher: JobWatcher { JobWatcher(client: api) }
}

/// A command that talks to a registry.
protocol ClientCommand: AsyncParsableCommand {
    var client: ClientOptions { get }
    func run(_ context: ClientContext) async throws
}

extension ClientCommand {
    func run() async throws {
        try await reportingClientErrors { try await run(try ClientSetup.context(client)) }
    }
}

/// Runs a client command: a `ClientError` becomes one line on standard error and its exit code.
func reportingClientErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ClientError {
        printError("vice: " + error.description)
        throw ExitCode(error.exitCode)
    }
}

/// Finds the registry and the credentials: flags, then the environment (`VICE_URL`, `VICE_USER`,
/// `VICE_PASSWORD`, `VICE_TOKEN`), then the profile.
enum ClientSetup {
    static func context(_ options: ClientOptions, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ClientContext {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let path = ClientProfiles.path(environment: environment)
        let profiles = try ClientProfiles.load(from: path)
        let name = options.profile ?? value("VICE_PROFILE") ?? profiles.current
        var profile = name.flatMap { profiles.profiles[$0] }
        if let name, profile == nil, options.profile != nil || value("VICE_PROFILE") != nil {
            throw ClientError(.usage, "no profile '\(name)' in \(path) (vice login --profile \(name) URL makes one)")
        }
        guard let url = options.url ?? value("VICE_URL") ?? profile?.url else {
            throw ClientError(.authentication, "no registry: run 'vice login URL' or set VICE_URL")
        }
        // A URL or user given apart from the profile does not borrow the profile's secrets
        // (URLs compared as the client normalises them: a trailing slash or /v1 is the same).
        if let given = options.url ?? value("VICE_URL"), let profileURL = profile?.url,
           (try? APIClient(url: given, credentials: .none).root) != (try? APIClient(url: profileURL, credentials: .none).root) {
            profile = nil
        }
        let user = options.user ?? value("VICE_USER")
        if let user, user != profile?.user { profile = nil }
        let credentials: ClientCredentials
        if let token = value("VICE_TOKEN"), options.user == nil {
            credentials = .token(token)
        } else if let user {
            guard let password = value("VICE_PASSWORD") ?? profile?.password ?? profile?.token ?? readPassword("Password for \(user): ") else {
                throw ClientError(.authentication, "no password for \(user): set VICE_PASSWORD or run on a terminal")
            }
            credentials = .basic(user: user, password: password)
        } else if let profile, let token = profile.token {
            credentials = .token(token)
        } else if let profile, let user = profile.user, let password = profile.password {
            credentials = .basic(user: user, password: password)
        } else {
            credentials = .none
        }
        let api = try APIClient(url: url, credentials: credentials, caBundle: options.caBundle ?? profile?.caBundle,
                                insecure: options.insecure || profile?.insecure == true)
        return ClientContext(api: api, output: options.output, profileName: name)
    }

    /// Asks on the terminal, without echo; nil when there is no terminal.
    static func readPassword(_ prompt: String) -> String? {
        guard isatty(STDIN_FILENO) == 1, let entered = getpass(prompt) else { return nil }
        let text = String(cString: entered)
        return text.isEmpty ? nil : text
    }
}

/// Reads a JSON document from a file (`-`: standard input).
func readJSONFile(_ path: String) throws -> JSONValue {
    let data: Data
    if path == "-" {
        data = FileHandle.standardInput.readDataToEndOfFile()
    } else {
        guard let contents = FileManager.default.contents(atPath: path) else { throw ClientError(.usage, "cannot read \(path)") }
        data = contents
    }
    do {
        return try JSONValue.decode([UInt8](data))
    } catch {
        throw ClientError(.usage, "\(path) is not JSON: \(error)")
    }
}

/// Merges `key=value` pairs into the object at `object[field]` (made when missing); a value that
/// parses as JSON is taken as JSON. No pairs: nothing changes.
func merge(_ pairs: [String], into object: inout [String: JSONValue], at field: String) throws {
    guard !pairs.isEmpty else { return }
    var merged = object[field]?.objectValue ?? [:]
    for pair in pairs {
        guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
            throw ClientError(.usage, "'\(pair)' is not key=value")
        }
        let value = String(pair[pair.index(after: equals)...])
        merged[String(pair[..<equals])] = (try? JSONValue.decode(Array(value.utf8))) ?? .string(value)
    }
    object[field] = .object(merged)
}

extension ClientContext {
    /// Deletes each record at `path(id)`, telling people which went.
    func deleteEach(_ ids: [String], noun: String, path: (String) -> String) async throws {
        for id in ids {
            try await api.json("DELETE", path(id))
            say("deleted \(noun) \(id)")
        }
    }
}

extension ClientContext {
    /// Shows what a POST made; with `wait`, first follows its job to the end and shows the
    /// record as it is then (read again at `path(id)`).
    func show(created: JSONValue, following wait: Bool, verb: String, columns: [(header: String, field: String)],
              path: (String) -> String) async throws {
        guard wait, let id = created["id"]?.textValue else {
            show(created, columns: columns)
            return
        }
        if let job = created["jobId"]?.textValue {
            _ = try await watcher.wait(for: job, progress: progress("\(verb) \(id)"))
        }
        show(try await api.json("GET", path(id)).value, columns: columns)
    }
}
