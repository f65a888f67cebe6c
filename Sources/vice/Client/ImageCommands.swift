import ArgumentParser
import Foundation
import ViceClient
import ViceCore

let imageColumns: [(header: String, field: String)] = [
    ("ID", "id"), ("TITLE", "title"), ("TYPE", "contenttype"), ("STATUS", "status"), ("SIZE", "size"), ("VISIBILITY", "visibility"),
]

struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Images in the registry: list, show, create, update, delete, upload, download, import.",
        subcommands: [ImageList.self, ImageShow.self, ImageCreate.self, ImageUpdate.self, ImageDelete.self,
                      ImageUpload.self, ImageDownload.self, ImageImport.self])
}

struct ImageList: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Your images and those shared with you, every page.")
    @OptionGroup var client: ClientOptions
    @Option(help: "Words to search titles, descriptions and references for.") var search: String?
    @Option(help: "Only this content type (disk-raw, disk-qcow2, disk-vmdk, docker-image, docker-file, packerfile).") var contentType: String?
    @Option(help: "Only this status (queued, importing, storing, active, failed, …).") var status: String?
    @Option(help: "Only this visibility (private, shared, public).") var visibility: String?
    @Option(help: "Only the images of this user (admins).") var owner: String?
    @Option(help: "At most this many.") var limit: Int?

    func run(_ context: ClientContext) async throws {
        var query: [(String, String)] = []
        for (name, value) in [("q", search), ("contenttype", contentType), ("status", status), ("visibility", visibility), ("owner", owner)] {
            if let value { query.append((name, value)) }
        }
        context.show(.array(try await context.api.all("/images", query: query, limit: limit)), columns: imageColumns)
    }
}

struct ImageShow: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One image.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The image's id.") var id: String

    func run(_ context: ClientContext) async throws {
        context.show(try await context.api.json("GET", "/image/\(id)").value, columns: imageColumns)
    }
}

/// The fields `create` and `update` set.
struct ImageFields: ParsableArguments {
    @Option(help: "Its title.") var title: String?
    @Option(help: "What the bytes are: disk-raw, disk-qcow2, disk-vmdk, docker-image, docker-file, packerfile.") var contentType: String?
    @Option(help: "Its description.") var description: String?
    @Option(help: "Who sees it: private, shared (with --member) or public.") var visibility: String?
    @Option(help: "A user it is shared with (repeatable).") var member: [String] = []
    @Option(name: .customLong("specific"), help: "specifics key=value (repeatable; JSON values are taken as JSON).") var specifics: [String] = []

    func apply(to image: inout [String: JSONValue]) throws {
        if let title { image["title"] = .string(title) }
        if let contentType { image["contenttype"] = .string(contentType) }
        if let description { image["description"] = .string(description) }
        if let visibility { image["visibility"] = .string(visibility) }
        if !member.isEmpty { image["members"] = .array(member.map(JSONValue.string)) }
        try merge(specifics, into: &image, at: "specifics")
    }
}

struct ImageCreate: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "create", abstract: "A new image record, for an upload (vice image upload) or, with --from, an import.")
    @OptionGroup var client: ClientOptions
    @OptionGroup var fields: ImageFields
    @Option(name: [.customShort("f"), .long], help: "A JSON image, as the API takes it (- for standard input).") var file: String?
    @Option(help: "The environment to import it from (its id).") var from: String?
    @Option(help: "What to import: the environment's reference for it.") var reference: String?

    func run(_ context: ClientContext) async throws {
        var image: [String: JSONValue] = [:]
        if let file {
            guard case .object(let given) = try readJSONFile(file) else { throw ClientError(.usage, "\(file) must hold a JSON object") }
            image = given
        }
        try fields.apply(to: &image)
        if let from { image["originEnvironment"] = .string(from) }
        if let reference { image["environmentReference"] = .string(reference) }
        context.show(try await context.api.json("POST", "/images", body: .object(image)).value, columns: imageColumns)
    }
}

struct ImageUpdate: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Change an image's fields: reads it, changes what you give, writes it back.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The image's id.") var id: String
    @OptionGroup var fields: ImageFields

    func run(_ context: ClientContext) async throws {
        guard case .object(var image) = try await context.api.json("GET", "/image/\(id)").value else {
            throw ClientError(.refused, "the server's answer for image \(id) is not an object")
        }
        try fields.apply(to: &image)
        context.show(try await context.api.json("PUT", "/images", body: .object(image)).value, columns: imageColumns)
    }
}

struct ImageDelete: ClientCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete images and their bytes.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The images' ids.") var ids: [String]

    func run(_ context: ClientContext) async throws {
        try await context.deleteEach(ids, noun: "image") { "/image/\($0)" }
    }
}

struct ImageUpload: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "upload",
        abstract: "Upload a file as the image's bytes, then wait until the registry has checked and committed them.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The image's id (vice image create makes one).") var id: String
    @Argument(help: "The file.") var file: String
    @Flag(help: "Return once the bytes are sent, before the registry has checked them.") var noWait = false

    func run(_ context: ClientContext) async throws {
        let transfer = ImageTransfer(client: context.api)
        let progress = context.progress("upload \(id)")
        let (sent, digest) = try await transfer.upload(imageID: id, file: file, progress: progress)
        guard !noWait, let job = sent["jobId"]?.textValue else {
            context.show(sent, columns: imageColumns)
            return
        }
        _ = try await context.watcher.wait(for: job, progress: context.progress("store \(id)"))
        let image = try await context.api.json("GET", "/image/\(id)").value
        guard image["checksum"]?.textValue == "sha256:" + digest else {
            throw ClientError(.digestMismatch, "the registry holds \(image["checksum"]?.textValue ?? "nothing") for image \(id), but the file's SHA-256 is \(digest)")
        }
        context.show(image, columns: imageColumns)
    }
}

struct ImageDownload: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download the image's bytes, resuming where a broken transfer stopped; checks them against the digest.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The image's id.") var id: String
    @Option(name: [.customShort("O"), .customLong("file")], help: "Where to write them (default: the image id; - for standard output).")
    var destination: String?
    @Option(help: "Tries before giving up.") var attempts = 5

    func run(_ context: ClientContext) async throws {
        var transfer = ImageTransfer(client: context.api)
        transfer.attempts = max(1, attempts)
        let target = destination ?? id
        let result = try await transfer.download(imageID: id, to: target, progress: context.progress("download \(id)"))
        guard target != "-" else { return }
        let summary: JSONValue = .object([
            "id": .string(id), "file": .string(target), "bytes": .number(Double(result.bytes)),
            "checksum": .string("sha256:" + result.sha256), "resumedFrom": .number(Double(result.resumedFrom)),
            "resumes": .number(Double(result.resumes)),
        ])
        context.show(summary, columns: [("FILE", "file"), ("BYTES", "bytes"), ("CHECKSUM", "checksum")])
    }
}

struct ImageImport: ClientCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import an image from an environment; --wait follows the job to its end.")
    @OptionGroup var client: ClientOptions
    @Argument(help: "The environment's id.") var environment: String
    @Argument(help: "What to import: the environment's reference (vice env images ENV lists them).") var reference: String
    @OptionGroup var fields: ImageFields
    @Flag(help: "Follow the import and exit non-zero when it fails.") var wait = false

    func run(_ context: ClientContext) async throws {
        var image: [String: JSONValue] = ["originEnvironment": .string(environment), "environmentReference": .string(reference)]
        try fields.apply(to: &image)
        if image["title"] == nil { image["title"] = .string(reference) }
        let created = try await context.api.json("POST", "/images", body: .object(image)).value
        try await context.show(created: created, following: wait, verb: "import", columns: imageColumns) { "/image/\($0)" }
    }
}
