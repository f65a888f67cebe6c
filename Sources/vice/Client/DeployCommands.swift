import ArgumentParser
import Foundation
import ViceClient
import ViceCore

let deploymentColumns: [(header: String, field: String)] = [
    ("ID", "id"), ("IMAGE", "imageid"), ("ENVIRONMENT", "environmentId"), ("STATUS", "status"), ("REFERENCE", "environmentReference"),
]

struct DeployCommand: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "deploy", abstract: "Deploy an image into an environment; --wait follows the job to its end.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The image's id.") var image: String
    @Argument(help: "The environment's id.") var environment: String
    @Option(help: "The deployment's title.") var title: String?
    @Flag(help: "Follow the deploy and exit non-zero when it fails.") var wait = false

    func run(_ context: ClientContext) async throws {
        var body: [String: JSONValue] = ["imageid": .string(image), "environmentId": .string(environment)]
        if let title { body["title"] = .string(title) }
        let created = try await context.api.json("POST", "/deploy", body: .object(body)).value
        try await context.show(created: created, following: wait, verb: "deploy", columns: deploymentColumns) { "/deployment/\($0)" }
    }
}

struct DeploymentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployment", abstract: "Deployments: list, show, delete.",
        subcommands: [List.self, Show.self, Delete.self])

    struct List: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Your deployments, every page.")
        @OptionGroup var client: ClientOptions
        func run(_ context: ClientContext) async throws {
            context.show(.array(try await context.api.all("/deployments")), columns: deploymentColumns)
        }
    }

    struct Show: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "One deployment.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The deployment's id.") var id: String
        func run(_ context: ClientContext) async throws {
            context.show(try await context.api.json("GET", "/deployment/\(id)").value, columns: deploymentColumns)
        }
    }

    struct Delete: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Take deployments out of their environments; --wait until they are gone.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The deployments' ids.") var ids: [String]
        @Flag(help: "Follow the removals and exit non-zero when one fails.") var wait = false
        func run(_ context: ClientContext) async throws {
            for id in ids {
                let removing = try await context.api.json("DELETE", "/deployment/\(id)").value
                if wait, let job = removing["jobId"]?.textValue {
                    _ = try await context.watcher.wait(for: job, progress: context.progress("remove \(id)"))
                    context.say("removed deployment \(id)")
                } else {
                    context.say("removing deployment \(id)")
                }
            }
        }
    }
}
