import ArgumentParser
import Foundation
import ViceClient
import ViceCore

/// The columns of an environment table.
let environmentColumns: [(header: String, field: String)] = [
    ("ID", "id"), ("TITLE", "title"), ("SOFTWARE", "managementlayer.software"), ("LOCATION", "credentials.location"), ("OWNER", "userid"),
]

struct EnvList: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The environments you may use.")
    @OptionGroup var client: ClientOptions
    @Option(help: "Only these: managementlayer.software (openstack, docker, bwlehrpool, memory, …).")
    var software: String?

    func run(_ context: ClientContext) async throws {
        let query = software.map { [("filterManagementlayer", $0)] } ?? []
        context.show(.array(try await context.api.all("/environments", query: query)), columns: environmentColumns)
    }
}

struct EnvShow: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One environment (its password is never shown).")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The environment's id.") var id: String

    func run(_ context: ClientContext) async throws {
        context.show(try await context.api.json("GET", "/environment/\(id)").value, columns: environmentColumns)
    }
}

struct EnvCreate: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Register an environment, from a JSON file (-f) and/or flags.",
        discussion: "Example: vice env create --title lab --software docker --location unix:///var/run/docker.sock")
    @OptionGroup var client: ClientOptions
    @Option(name: [.customShort("f"), .long], help: "A JSON environment, as the API takes it (- for standard input).")
    var file: String?
    @Option(help: "Its title.") var title: String?
    @Option(help: "managementlayer.software: which adapter (openstack, docker, bwlehrpool, memory, …).") var software: String?
    @Option(help: "credentials.location: where it is (a Keystone URL, a Docker socket or host, a satellite).") var location: String?
    @Option(help: "credentials.username.") var username: String?
    @Flag(help: "Read credentials.password from standard input.") var passwordStdin = false
    @Option(name: .customLong("specific"), help: "credentials.specifics key=value (repeatable; JSON values are taken as JSON).")
    var specifics: [String] = []

    func run(_ context: ClientContext) async throws {
        var environment: [String: JSONValue] = [:]
        if let file {
            guard case .object(let fields) = try readJSONFile(file) else { throw ClientError(.usage, "\(file) must hold a JSON object") }
            environment = fields
        }
        if let title { environment["title"] = .string(title) }
        if let software {
            var layer = environment["managementlayer"]?.objectValue ?? [:]
            layer["software"] = .string(software)
            environment["managementlayer"] = .object(layer)
        }
        var credentials = environment["credentials"]?.objectValue ?? [:]
        if let location { credentials["location"] = .string(location) }
        if let username { credentials["username"] = .string(username) }
        if passwordStdin {
            guard let password = LoginCommand.readLine() else { throw ClientError(.usage, "no password on standard input") }
            credentials["password"] = .string(password)
        }
        try merge(specifics, into: &credentials, at: "specifics")
        if !credentials.isEmpty { environment["credentials"] = .object(credentials) }
        guard environment["managementlayer"]?["software"] != nil else {
            throw ClientError(.usage, "say which adapter: --software (or managementlayer.software in -f)")
        }
        let created = try await context.api.json("POST", "/environments", body: .object(environment)).value
        context.show(created, columns: environmentColumns)
    }
}

struct EnvDelete: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Remove environments from the registry (not from where they are).")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The environments' ids.") var ids: [String]

    func run(_ context: ClientContext) async throws {
        try await context.deleteEach(ids, noun: "environment") { "/environment/\($0)" }
    }
}

struct EnvHealth: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "health", abstract: "Whether the registry reaches the environment and logs in; exits 1 when unhealthy.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The environment's id.") var id: String

    func run(_ context: ClientContext) async throws {
        let health = try await context.api.json("GET", "/environment/\(id)/health").value
        context.show(health, columns: [("STATUS", "status"), ("MESSAGE", "message")])
        if health["status"]?.textValue != "healthy" { throw ExitCode(1) }
    }
}

struct EnvImages: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "What could be imported from the environment.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The environment's id.") var id: String

    func run(_ context: ClientContext) async throws {
        let images = try await context.api.json("GET", "/environment/\(id)/images").value
        context.show(images, columns: [("REFERENCE", "reference"), ("TITLE", "title"), ("TYPE", "contenttype"), ("SIZE", "size")])
    }
}
