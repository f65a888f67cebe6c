import Foundation
import Logging
package import ViceCore
import ViceHTTP

/// OpenStack clouds (`managementlayer.software: openstack`): Keystone v3 for identity, Glance v2
/// for images.
///
/// - import: `GET /v2/images/{id}`, then its `/file` streamed into the registry while size, MD5
///   (`checksum`) and the `os_hash_algo` digest are verified: a mismatch fails the import;
/// - deploy: `POST /v2/images`, `PUT /v2/images/{id}/file` streamed from the store, poll until
///   `active`, compare Glance's size and hashes with what was sent; any failure after the create
///   deletes the half image. The Glance id is the deployment's `environmentReference`;
/// - remove: `DELETE /v2/images/{id}` (404 counts as removed).
package struct OpenStackAdapter: RuntimeAdapter {
    package static let descriptor = AdapterDescriptor(
        kind: "openstack", version: "1.0.0", summary: "OpenStack Keystone v3 + Glance v2 (raw, qcow2 and VMDK disks)",
        capabilities: AdapterCapabilities(imports: [.diskRaw, .diskQcow2, .diskVmdk], deploys: [.diskRaw, .diskQcow2, .diskVmdk]),
        maintainers: ["ViCE Registry developers"])

    /// Deployed images carry these properties, so that a retried deploy finds what an earlier
    /// attempt left behind.
    static let deploymentProperty = "vice_deployment_id"
    static let imageProperty = "vice_image_id"

    let settings: OpenStackSettings
    let glance: Glance
    let logger: Logger
    let progress: ProgressReporter

    /// The settings and the CA bundle's place, without making an HTTP client.
    package static func checkConfiguration(_ environment: Environment, context: AdapterContext) throws {
        let settings = try OpenStackSettings(environment, egress: context.egress)
        try context.checkHostFile(settings.connection.caBundlePath, setting: "specifics.caBundle")
    }

    package init(environment: Environment, context: AdapterContext) throws {
        try Self.checkConfiguration(environment, context: context)
        settings = try OpenStackSettings(environment, egress: context.egress)
        let client = HTTPClient()
        glance = Glance(keystone: Keystone(settings: settings, client: client), client: client, logger: context.logger)
        logger = context.logger
        progress = context.progress
    }

    package func health() async -> AdapterHealth {
        do {
            let reply = try await glance.send("GET", "/images?limit=1")
            guard reply.response.status == 200 else { return .unhealthy((await glance.failure(reply, doing: "listing images")).message) }
            _ = try await reply.response.collect(upTo: 1 << 20)
            return AdapterHealth(status: .healthy, message: "Glance \(reply.endpoint), project \(settings.project)")
        } catch {
            return .unhealthy(String(describing: error))
        }
    }

    package func listImages() async throws -> [RemoteImage] {
        try await listImages(pageSize: 200)
    }

    /// Every active image, page by page along Glance's `next` links.
    func listImages(pageSize: Int) async throws -> [RemoteImage] {
        var images: [RemoteImage] = []
        var path: String? = "/images?limit=\(pageSize)"
        var pages = 0
        while let current = path, pages < 1000 {
            let reply = try await glance.send("GET", current)
            guard reply.response.status == 200 else { throw await glance.failure(reply, doing: "listing images") }
            let page = try await glance.decode(GlanceImagePage.self, from: reply, doing: "listing images")
            images += page.images.filter { $0.status == "active" }.map {
                RemoteImage(reference: $0.id, title: $0.name, contenttype: GlanceImage.contenttype(forDiskFormat: $0.disk_format),
                            size: $0.size)
            }
            path = page.next
            pages += 1
        }
        return images
    }

    // MARK: import

    package func importImage(reference: String) async throws -> ImageSource {
        let id = try Self.validID(reference)
        let image = try await metadata(of: id, doing: "the Glance image \(id)")
        switch image.status {
        case "active": break
        case "queued", "saving", "uploading", "importing":
            throw AdapterError(.unavailable, "the Glance image \(id) is still \(image.status); the import waits for it")
        default:
            throw AdapterError(.remoteError, "the Glance image \(id) is \(image.status), not active: it cannot be imported")
        }
        guard let contenttype = GlanceImage.contenttype(forDiskFormat: image.disk_format) else {
            throw AdapterError(.unsupported,
                               "the Glance image \(id) has disk_format \(image.disk_format ?? "none"); the registry takes raw, qcow2 and vmdk")
        }
        let reply = try await glance.send("GET", "/images/\(id)/file")
        switch reply.response.status {
        case 200: break
        case 204: throw AdapterError(.remoteError, "the Glance image \(id) has no data")
        default: throw await glance.failure(reply, doing: "downloading the Glance image \(id)")
        }
        let digests = StreamDigests(multihashAlgorithm: image.os_hash_algo)
        let resuming = ResumingDownload(glance: glance, id: id, first: reply.response.body, logger: logger)
        let content = digests.wrap(ByteStream { try await resuming.next() }) { [logger] result in
            try Self.verify(result, against: image, what: "the download of Glance image \(id)", logger: logger)
        }
        var specifics: [String: JSONValue] = ["glance": image.specifics]
        if let minDisk = image.min_disk { specifics["min_disk"] = .number(Double(minDisk)) }
        if let minRam = image.min_ram { specifics["min_ram"] = .number(Double(minRam)) }
        return ImageSource(contenttype: contenttype, title: image.name, expectedSize: image.size,
                           specifics: .object(specifics), content: content)
    }

    /// Compares what was computed over the bytes with Glance's record. Absent fields are skipped
    /// (old images have no `os_hash_*`); an algorithm this adapter does not know is skipped too.
    static func verify(_ result: StreamDigests.Result, against image: GlanceImage, what: String, logger: Logger) throws {
        if let size = image.size, size != result.size {
            throw AdapterError(.integrity, "\(what): Glance records \(size) bytes, \(result.size) arrived", transient: true)
        }
        if let checksum = image.checksum?.lowercased(), !checksum.isEmpty, checksum != result.md5 {
            throw AdapterError(.integrity, "\(what): MD5 \(result.md5) does not match Glance's checksum \(checksum)", transient: true)
        }
        if let value = image.os_hash_value?.lowercased(), !value.isEmpty {
            if let computed = result.multihash, result.multihashAlgorithm == image.os_hash_algo?.lowercased() {
                if computed != value {
                    throw AdapterError(.integrity, "\(what): \(image.os_hash_algo ?? "") \(computed) does not match Glance's os_hash_value \(value)",
                                       transient: true)
                }
            } else {
                logger.info("os_hash_algo \(image.os_hash_algo ?? "none") not verified (\(what)); size and MD5 were")
            }
        }
    }

    // MARK: deploy

    package func deploy(_ image: ImageDescription, content: ByteStream) async throws -> DeploymentReference {
        guard let diskFormat = GlanceImage.diskFormat(for: image.contenttype) else {
            throw AdapterError(.unsupported, "Glance takes raw, qcow2 and VMDK disks, not \(image.contenttype.rawValue)")
        }
        // An earlier attempt of this deployment may have left an image behind (Glance went away
        // before it could be deleted): it goes first.
        try await removeLeftovers(of: image.deploymentID)

        let created = try await glance.send("POST", "/images", json: createBody(for: image, diskFormat: diskFormat))
        guard created.response.status == 201 else { throw await glance.failure(created, doing: "creating the Glance image") }
        let record = try await glance.decode(GlanceImage.self, from: created, doing: "creating the Glance image")
        do {
            try await upload(image, content: content, to: record.id)
            return DeploymentReference(reference: record.id)
        } catch {
            await deleteAfterFailure(record.id, because: error)
            throw error
        }
    }

    private func createBody(for image: ImageDescription, diskFormat: String) -> [String: Any] {
        let specifics = image.specifics?.unwrappingEncodedString
        var body: [String: Any] = [
            "name": image.title,
            "disk_format": diskFormat,
            "container_format": "bare",
            "visibility": specifics?["visibility"]?.stringValue ?? settings.visibility,
            Self.deploymentProperty: image.deploymentID,
            Self.imageProperty: image.imageID,
            "vice_checksum": image.checksum,
        ]
        if let minDisk = specifics?["min_disk"]?.textValue.flatMap(Int.init) { body["min_disk"] = minDisk }
        if let minRam = specifics?["min_ram"]?.textValue.flatMap(Int.init) { body["min_ram"] = minRam }
        // Extra properties are strings; Glance reserves the os_glance namespace.
        for (key, value) in specifics?["properties"]?.objectValue ?? [:] where !key.hasPrefix("os_glance") && key.count <= 255 {
            if let text = value.textValue { body[key] = text }
        }
        return body
    }

    private func upload(_ image: ImageDescription, content: ByteStream, to id: String) async throws {
        let expected = image.checksum.hasPrefix("sha256:") ? String(image.checksum.dropFirst(7)) : image.checksum
        let digests = StreamDigests(multihashAlgorithm: "sha512", sha256: true)
        let body = digests.wrap(content) { result in
            // The bytes read from the store must be the registry's: else Glance gets a corrupt disk.
            guard result.sha256 == expected, result.size == image.size else {
                throw AdapterError(.integrity, "the stored bytes of image \(image.imageID) no longer match its checksum \(image.checksum)")
            }
        }
        let put = try await glance.send(
            "PUT", "/images/\(id)/file", body: HTTPRequestBody(body, length: image.size),
            headers: [("Content-Type", "application/octet-stream"), ("x-openstack-image-size", String(image.size))],
            replayable: false)
        guard put.response.status == 204 || put.response.status == 200 else {
            throw await glance.failure(put, doing: "uploading to the Glance image \(id)")
        }
        _ = try? await put.response.collect(upTo: 1 << 20)
        guard let sent = digests.finished else {
            throw AdapterError(.remoteError, "Glance answered the upload of \(id) before it had all the bytes", transient: true)
        }
        let active = try await waitUntilActive(id, size: image.size)
        try Self.verify(sent, against: active, what: "the upload to Glance image \(id)", logger: logger)
    }

    /// Upper bound of the wait for `active` after the upload: 10 min + 1 min per GiB.
    static func activeTimeout(_ size: Int64) -> Duration { .seconds(600 + 60 * (size >> 30)) }

    /// Polls the image until it is `active`: 1 s, growing to 10 s between polls.
    private func waitUntilActive(_ id: String, size: Int64) async throws -> GlanceImage {
        progress.phase(.waitingForTarget)
        let clock = ContinuousClock()
        let deadline = clock.now + Self.activeTimeout(size)
        var interval = Duration.seconds(1)
        while true {
            let image = try await metadata(of: id, doing: "the Glance image \(id)")
            switch image.status {
            case "active": return image
            case "saving", "uploading", "importing": break
            case "queued": throw AdapterError(.remoteError, "Glance returned image \(id) to queued: the upload did not take", transient: true)
            default: throw AdapterError(.remoteError, "Glance image \(id) became \(image.status) after the upload", transient: true)
            }
            guard clock.now + interval < deadline else {
                throw AdapterError(.unavailable, "Glance image \(id) is still \(image.status) after \(Self.activeTimeout(size))")
            }
            try await Task.sleep(for: interval)
            interval = min(interval * 2, .seconds(10))
        }
    }

    /// Deletes a half image; tries a few times, since the failure may have been Glance going away.
    private func deleteAfterFailure(_ id: String, because error: any Error) async {
        logger.warning("deploy failed after creating Glance image \(id), deleting it: \(error)")
        // The cleanup must run even when the job is being cancelled.
        let cleanup = Task.detached { [glance, logger] in
            for attempt in 0..<4 {
                if attempt > 0 { try? await Task.sleep(for: .seconds(attempt)) }
                if let reply = try? await glance.send("DELETE", "/images/\(id)") {
                    _ = try? await reply.response.collect(upTo: 1 << 20)
                    if [204, 200, 404].contains(reply.response.status) { return }
                }
            }
            logger.error("could not delete the half Glance image \(id); the next attempt of the deployment will")
        }
        await cleanup.value
    }

    /// A cancelled deploy: the Glance image it created (found by its deployment property) goes.
    package func discardUnfinishedDeploy(deploymentID: String) async throws {
        try await removeLeftovers(of: deploymentID)
    }

    private func removeLeftovers(of deploymentID: String) async throws {
        let query = deploymentID.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? deploymentID
        let reply = try await glance.send("GET", "/images?\(Self.deploymentProperty)=\(query)")
        guard reply.response.status == 200 else { throw await glance.failure(reply, doing: "looking for earlier attempts") }
        let page = try await glance.decode(GlanceImagePage.self, from: reply, doing: "looking for earlier attempts")
        for leftover in page.images {
            logger.info("removing Glance image \(leftover.id) (\(leftover.status)) left by an earlier attempt of deployment \(deploymentID)")
            try await remove(reference: leftover.id)
        }
    }

    // MARK: remove

    package func remove(reference: String) async throws {
        let id = try Self.validID(reference)
        let reply = try await glance.send("DELETE", "/images/\(id)")
        switch reply.response.status {
        case 204, 200, 404: _ = try? await reply.response.collect(upTo: 1 << 20)
        default: throw await glance.failure(reply, doing: "deleting the Glance image \(id)")
        }
    }

    // MARK: helpers

    private func metadata(of id: String, doing what: String) async throws -> GlanceImage {
        let reply = try await glance.send("GET", "/images/\(id)")
        switch reply.response.status {
        case 200: return try await glance.decode(GlanceImage.self, from: reply, doing: what)
        case 404:
            _ = try? await reply.response.collect(upTo: 1 << 20)
            throw AdapterError(.notFound, "unknown Glance image \(id) (project \(settings.project))")
        default: throw await glance.failure(reply, doing: what)
        }
    }

    /// Glance ids are UUIDs; anything else would be spliced into a URL path.
    static func validID(_ reference: String) throws -> String {
        let id = reference.trimmingCharacters(in: .whitespaces)
        guard !id.isEmpty, id.count <= 64, id.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
            throw AdapterError(.notFound, "'\(reference)' is not a Glance image id (a UUID)")
        }
        return id.lowercased()
    }
}

/// The bytes of a Glance image download that picks up where it broke: when the connection fails
/// mid-way, the rest is asked for with `Range: bytes=<received>-` (Glance answers 206), up to
/// three times, so a long import survives a hiccup without starting over. Read by one consumer
/// at a time (a stream is read sequentially).
final class ResumingDownload: @unchecked Sendable {
    static let maxResumes = 3

    let glance: Glance
    let id: String
    let logger: Logger
    private var iterator: ByteStream.AsyncIterator
    private var received: Int64 = 0
    private var resumes = 0

    init(glance: Glance, id: String, first: ByteStream, logger: Logger) {
        self.glance = glance
        self.id = id
        self.logger = logger
        iterator = first.makeAsyncIterator()
    }

    func next() async throws -> [UInt8]? {
        while true {
            do {
                let chunk = try await iterator.next()
                received += Int64(chunk?.count ?? 0)
                return chunk
            } catch let error as HTTPClientError where error.isTransient || error.kind == .receive {
                guard resumes < Self.maxResumes, !Task.isCancelled else { throw error }
                resumes += 1
                logger.notice("the download of Glance image \(id) broke after \(received) bytes (\(error.message)); resuming")
                let reply = try await glance.send("GET", "/images/\(id)/file", headers: [("Range", "bytes=\(received)-")])
                guard reply.response.status == 206 else {
                    throw AdapterError(.remoteError, "resuming the download of Glance image \(id) at byte \(received): HTTP \(reply.response.status)",
                                       transient: true)
                }
                iterator = reply.response.body.makeAsyncIterator()
            }
        }
    }
}
