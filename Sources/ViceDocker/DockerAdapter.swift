import Crypto
import Foundation
package import ViceCore
import ViceHTTP

/// Docker engines (`managementlayer.software: docker`) through the Engine API.
///
/// - import: `GET /images/{ref}/get`, a `docker save` tar (`docker-image`);
/// - deploy `docker-image`: `POST /images/load` with the archive's own tags replaced on the way
///   (a loaded tar can never move an existing tag such as `postgres:16`), then a tag;
///   `docker-file`: `POST /build` with the Dockerfile as the build context. Every tag lies in a
///   namespace the registry owns: `vice/<owner>/<specifics.tag of the image>`, or
///   `vice/<owner>/<slug of the title>:<image id>` (`specifics.tagPrefix` of a trusted
///   environment replaces `vice`); it becomes the deployment's `environmentReference`;
/// - remove: `DELETE /images/{ref}`: the deployment's tag, and the image with it when no other
///   tag or container uses it (an image a container uses is not removed: the engine's message
///   fails the removal).
package struct DockerAdapter: RuntimeAdapter {
    package static let descriptor = AdapterDescriptor(
        kind: "docker", version: "1.0.0", summary: "Docker Engine API (unix socket or TCP)",
        capabilities: AdapterCapabilities(imports: [.dockerImage], deploys: [.dockerImage, .dockerFile]),
        maintainers: ["ViCE Registry developers"])

    let engine: DockerEngine
    /// `<prefix>/<owner>`: the part of every tag this adapter creates that callers cannot choose.
    let namespace: String

    package init(environment: Environment, context: AdapterContext) throws {
        let specifics = environment.credentials?.specifics
        engine = try DockerEngine(location: environment.credentials?.location, specifics: specifics, context: context)
        var prefix = "vice"
        if let given = specifics?["tagPrefix"]?.stringValue, !given.isEmpty {
            guard context.isTrusted else {
                throw AdapterError(.invalidConfiguration, "specifics.tagPrefix is only for environments an admin created or the configuration declares")
            }
            guard given.split(separator: "/").allSatisfy({ Self.slug(String($0)) == $0 }) else {
                throw AdapterError(.invalidConfiguration, "specifics.tagPrefix '\(given)' is not a Docker repository path (lower-case letters, digits, dashes, slashes)")
            }
            prefix = given
        }
        namespace = prefix + "/" + Self.ownerComponent(context.ownerName ?? "shared")
    }

    /// The owner's user name as a repository path component. Names that a slug would change
    /// (`a.b`, `a_b`, `A`) get a digest of the name after a double dash — which no slug contains,
    /// so no user name can be chosen to land in another user's namespace.
    static func ownerComponent(_ name: String) -> String {
        let slug = slug(name)
        guard slug != name else { return slug }
        return String(slug.prefix(48)) + "--" + String(SHA256.hash(data: Data(name.utf8)).hexString.prefix(16))
    }

    package func health() async -> AdapterHealth {
        do {
            let prefix = try await engine.versionPrefix()
            let response = try await engine.send("GET", prefix + "/version")
            let version = try await engine.json(response) as? [String: Any]
            guard response.status == 200 else { return .unhealthy("the engine answered /version with \(response.status)") }
            return AdapterHealth(status: .healthy, message: "Docker \(version?["Version"] as? String ?? "?") (API \(version?["ApiVersion"] as? String ?? "?"))")
        } catch {
            return .unhealthy("\(error)")
        }
    }

    package func listImages() async throws -> [RemoteImage] {
        let prefix = try await engine.versionPrefix()
        let response = try await engine.send("GET", prefix + "/images/json")
        guard response.status == 200 else { throw await engine.failure(response, doing: "listing images") }
        let images = try await engine.json(response) as? [[String: Any]] ?? []
        // One entry per tag (an image may carry several), untagged images by their id.
        return images.flatMap { image -> [RemoteImage] in
            let tags = (image["RepoTags"] as? [String] ?? []).filter { $0 != "<none>:<none>" }
            let id = image["Id"] as? String ?? ""
            let size = (image["Size"] as? NSNumber)?.int64Value
            return (tags.isEmpty ? [id] : tags).map {
                RemoteImage(reference: $0, title: $0, contenttype: .dockerImage, size: size)
            }
        }
    }

    package func importImage(reference: String) async throws -> ImageSource {
        let prefix = try await engine.versionPrefix()
        let path = Self.escape(reference)
        let inspect = try await engine.send("GET", prefix + "/images/\(path)/json")
        guard inspect.status == 200 else {
            throw await engine.failure(inspect, doing: "the Docker image '\(reference)'")
        }
        let details = try await engine.json(inspect) as? [String: Any] ?? [:]
        let saved = try await engine.send("GET", prefix + "/images/\(path)/get")
        guard saved.status == 200 else { throw await engine.failure(saved, doing: "exporting '\(reference)'") }
        let specifics: [String: JSONValue] = [
            "dockerImageId": .string(details["Id"] as? String ?? ""),
            "repoTags": .array((details["RepoTags"] as? [String] ?? []).map(JSONValue.string)),
            "os": .string(details["Os"] as? String ?? ""),
            "architecture": .string(details["Architecture"] as? String ?? ""),
        ]
        return ImageSource(contenttype: .dockerImage, title: reference, specifics: .object(specifics), content: saved.body)
    }

    package func deploy(_ image: ImageDescription, content: ByteStream) async throws -> DeploymentReference {
        let prefix = try await engine.versionPrefix()
        let (repository, tag) = Self.target(for: image, namespace: namespace)
        switch image.contenttype {
        case .dockerImage:
            // The archive's RepoTags are replaced by ours while it streams: loading it cannot
            // create or move any other tag on the engine.
            let retagged = DockerArchiveRetagger.retag(content, as: "\(repository):\(tag)")
            let loaded = try await engine.send("POST", prefix + "/images/load?quiet=1",
                                               body: HTTPRequestBody(retagged), contentType: "application/x-tar")
            guard loaded.status == 200 else { throw await engine.failure(loaded, doing: "loading the image") }
            let messages = try await engine.messages(loaded, doing: "loading the image")
            guard let source = Self.loadedReference(messages) else {
                throw AdapterError(.remoteError, "the engine loaded nothing it could name (messages: \(messages.count))")
            }
            let tagged = try await engine.send("POST", prefix + "/images/\(Self.escape(source))/tag?repo=\(Self.query(repository))&tag=\(Self.query(tag))")
            guard tagged.status == 201 || tagged.status == 200 else { throw await engine.failure(tagged, doing: "tagging \(source)") }
            _ = try? await tagged.collect(upTo: 1 << 16)
        case .dockerFile:
            let context = BuildContext(dockerfile: content, size: image.size)
            let built = try await engine.send("POST", prefix + "/build?t=\(Self.query("\(repository):\(tag)"))&rm=1&forcerm=1",
                                              body: HTTPRequestBody(context.stream, length: context.length),
                                              contentType: "application/x-tar")
            guard built.status == 200 else { throw await engine.failure(built, doing: "building the Dockerfile") }
            _ = try await engine.messages(built, doing: "building the Dockerfile")
        default:
            throw AdapterError(.unsupported, "the Docker adapter deploys docker-image and docker-file content, not \(image.contenttype.rawValue)")
        }
        return DeploymentReference(reference: "\(repository):\(tag)")
    }

    package func remove(reference: String) async throws {
        let prefix = try await engine.versionPrefix()
        let response = try await engine.send("DELETE", prefix + "/images/\(Self.escape(reference))")
        switch response.status {
        case 200, 404: _ = try? await response.collect(upTo: 1 << 20)
        default: throw await engine.failure(response, doing: "removing \(reference)")
        }
    }

    // MARK: naming

    /// `<namespace>/<specifics.tag>` (`repo:tag` or `repo`, each path component made a slug), or
    /// `<namespace>/<slug of the title>:<image id>`.
    static func target(for image: ImageDescription, namespace: String) -> (String, String) {
        if let given = image.specifics?["tag"]?.stringValue, !given.isEmpty {
            var repository = given, tag = "latest"
            if let colon = given.lastIndex(of: ":"), !given[colon...].contains("/") {
                repository = String(given[..<colon])
                tag = String(given[given.index(after: colon)...])
            }
            let path = repository.split(separator: "/").map { slug(String($0)) }.joined(separator: "/")
            return (namespace + "/" + path, tagSlug(tag))
        }
        return (namespace + "/" + slug(image.title), tagSlug(image.imageID))
    }

    /// A valid Docker tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
    static func tagSlug(_ tag: String) -> String {
        let kept = String(tag.unicodeScalars.filter { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "_.-".unicodeScalars.contains($0)) }
            .map(Character.init).prefix(128))
        return kept.isEmpty || kept.first == "." || kept.first == "-" ? "v" + kept.prefix(127) : kept
    }

    /// Lower-case letters, digits and single dashes: a valid Docker repository path component.
    static func slug(_ title: String) -> String {
        var slug = ""
        for character in title.lowercased() {
            if character.isASCII && (character.isLetter || character.isNumber) {
                slug.append(character)
            } else if !slug.isEmpty && slug.last != "-" {
                slug.append("-")
            }
        }
        while slug.last == "-" { slug.removeLast() }
        return slug.isEmpty ? "image" : String(slug.prefix(64))
    }

    /// The image a load produced: `Loaded image: repo:tag` or `Loaded image ID: sha256:…`.
    static func loadedReference(_ messages: [[String: Any]]) -> String? {
        for message in messages {
            guard let text = message["stream"] as? String else { continue }
            for line in text.split(separator: "\n") {
                if line.hasPrefix("Loaded image ID: ") { return String(line.dropFirst("Loaded image ID: ".count)) }
                if line.hasPrefix("Loaded image: ") { return String(line.dropFirst("Loaded image: ".count)) }
            }
        }
        return nil
    }

    static func escape(_ reference: String) -> String {
        reference.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? reference
    }

    static func query(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? value
    }
}

/// A build context tar holding one file, `Dockerfile`, streamed around the stored bytes.
struct BuildContext {
    let stream: ByteStream
    let length: Int64

    init(dockerfile: ByteStream, size: Int64) {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) { header.replaceSubrange(offset..<offset + text.utf8.count, with: Array(text.utf8)) }
        func octal(_ value: Int64, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: width - 1 - digits.count) + digits, at: offset)
        }
        put("Dockerfile", at: 0)
        octal(0o644, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(Int64(Date().timeIntervalSince1970), at: 136, width: 12)
        header[156] = 0x30
        put("ustar", at: 257)
        put("00", at: 263)
        header.replaceSubrange(148..<156, with: [UInt8](repeating: 0x20, count: 8))
        let checksum = header.reduce(Int64(0)) { $0 + Int64($1) }
        octal(checksum, at: 148, width: 7)
        header[155] = 0x20
        let padding = Int((512 - size % 512) % 512)
        let trailer = [UInt8](repeating: 0, count: padding + 1024)
        length = 512 + size + Int64(trailer.count)

        let state = ContextState(prefix: header, body: dockerfile, trailer: trailer)
        stream = ByteStream { try await state.next() }
    }
}

/// Header, then the Dockerfile's chunks, then padding and the end-of-archive blocks.
private final class ContextState: @unchecked Sendable {
    private var stage = 0
    private let prefix: [UInt8]
    private let trailer: [UInt8]
    private var body: ByteStream.AsyncIterator

    init(prefix: [UInt8], body: ByteStream, trailer: [UInt8]) {
        self.prefix = prefix
        self.trailer = trailer
        self.body = body.makeAsyncIterator()
    }

    /// Called by one consumer at a time (a request body is read sequentially).
    func next() async throws -> [UInt8]? {
        switch stage {
        case 0:
            stage = 1
            return prefix
        case 1:
            if let chunk = try await body.next() { return chunk }
            stage = 2
            return trailer
        default:
            return nil
        }
    }
}
