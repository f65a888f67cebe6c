import ArgumentParser
import Foundation
import ViceClient
import ViceCore

let jobColumns: [(header: String, field: String)] = [
    ("ID", "id"), ("KIND", "kind"), ("STATE", "state"), ("PHASE", "phase"), ("DONE", "bytesDone"), ("TOTAL", "bytesTotal"),
    ("ATTEMPTS", "attempts"), ("SUBJECT", "subject"),
]

/// A job with the one subject column the table shows.
func withSubject(_ job: JSONValue) -> JSONValue {
    guard case .object(var fields) = job else { return job }
    fields["subject"] = fields["imageId"] ?? fields["deploymentId"] ?? fields["webhookId"] ?? .null
    return .object(fields)
}

struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job", abstract: "Jobs: list, show, cancel, retry, watch.",
        subcommands: [List.self, Show.self, Cancel.self, Retry.self, Watch.self])

    struct List: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Your jobs, newest first, every page.")
        @OptionGroup var client: ClientOptions
        @Option(help: "Only these states, comma-separated (queued, running, succeeded, failed, cancelled).") var state: String?
        @Option(help: "Only this kind (import-image, store-image, deploy, remove-deployment, deliver-webhook).") var kind: String?
        @Option(help: "Only the jobs of this image.") var image: String?
        @Option(help: "Only the jobs of this deployment.") var deployment: String?
        @Option(help: "At most this many.") var limit: Int?
        func run(_ context: ClientContext) async throws {
            var query: [(String, String)] = []
            for (name, value) in [("state", state), ("kind", kind), ("imageId", image), ("deploymentId", deployment)] {
                if let value { query.append((name, value)) }
            }
            let jobs = try await context.api.all("/jobs", query: query, limit: limit)
            context.show(.array(context.output == .table ? jobs.map(withSubject) : jobs), columns: jobColumns)
        }
    }

    struct Show: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "One job.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The job's id.") var id: String
        func run(_ context: ClientContext) async throws {
            context.show(try await context.api.json("GET", "/jobs/\(id)").value, columns: jobColumns)
        }
    }

    struct Cancel: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a queued or running job.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The job's id.") var id: String
        func run(_ context: ClientContext) async throws {
            context.show(try await context.api.json("DELETE", "/jobs/\(id)").value, columns: jobColumns)
        }
    }

    struct Retry: ClientCommand {
        static let configuration = CommandConfiguration(abstract: "Run a failed or cancelled job again; --wait follows it.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The job's id.") var id: String
        @Flag(help: "Follow the job and exit non-zero when it fails.") var wait = false
        func run(_ context: ClientContext) async throws {
            let job = try await context.api.json("POST", "/jobs/\(id)/retry").value
            let shown = wait ? try await context.watcher.wait(for: job["id"]?.textValue ?? id, progress: context.progress("job \(id)")) : job
            context.show(shown, columns: jobColumns)
        }
    }

    struct Watch: ClientCommand {
        static let configuration = CommandConfiguration(
            abstract: "Follow a job live until it ends; exits non-zero with its error when it fails.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "The job's id.") var id: String
        func run(_ context: ClientContext) async throws {
            let job = try await context.watcher.wait(for: id, progress: context.progress("job \(id)"))
            context.show(job, columns: jobColumns)
        }
    }
}

struct StatsCommand: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "stats", abstract: "The registry's queues: jobs waiting and workers per queue.")
    @OptionGroup var client: ClientOptions
    func run(_ context: ClientContext) async throws {
        let stats = try await context.api.json("GET", "/runtimestats").value
        guard context.output == .table, case .object(let fields) = stats else {
            context.show(stats, columns: [])
            return
        }
        // The seed's six keys as a queue table.
        let rows: [JSONValue] = [("import", "imports"), ("export", "exports"), ("store", "store")].map { queue, prefix in
            .object(["queue": .string(queue), "pending": fields["\(prefix)Pending"] ?? .null,
                     "workers": fields["\(queue)Worker"] ?? .null])
        }
        context.show(.array(rows), columns: [("QUEUE", "queue"), ("PENDING", "pending"), ("WORKERS", "workers")])
    }
}
