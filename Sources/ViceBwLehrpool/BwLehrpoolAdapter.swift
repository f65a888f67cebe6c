import Crypto
import Foundation
import Logging
package import ViceCore

/// bwLehrpool satellites (`managementlayer.software: bwlehrpool`): login at the master server,
/// image metadata through the satellite's Thrift API, bytes through its block transfer protocol.
///
/// - import: details → latest (or named) version → `requestDownload` → 16 MiB blocks, each
///   checked against its SHA-1; the content type comes from the disk's magic bytes; the image
///   keeps the details and the machine description in its specifics;
/// - deploy (VMDK; other disks are converted by the registry): `createImage`, `updateImageBase`,
///   `requestImageVersionUpload` with size, block hashes and machine description, then the
///   ranges the satellite asks for, then `queryUploadStatus` until FINISHED. The reference is
///   `<imageBaseId>/<imageVersionId>`; on failure the upload is cancelled and the image deleted;
/// - remove: `deleteImageBase`.
package struct BwLehrpoolAdapter: RuntimeAdapter {
    package static let descriptor = AdapterDescriptor(
        kind: "bwlehrpool", version: "1.0.0", summary: "bwLehrpool satellites (Thrift + block transfer), VMware disks",
        capabilities: AdapterCapabilities(imports: [.diskVmdk, .diskQcow2, .diskRaw], deploys: [.diskVmdk]),
        maintainers: ["ViCE Registry developers"])

    let settings: BwLehrpoolSettings
    let logger: Logger
    let temporaryDirectory: URL
    /// Every connection (master, satellite, transfers) is checked against it after resolution.
    let egress: EgressPolicy
    let progress: ProgressReporter

    package init(environment: Environment, context: AdapterContext) throws {
        settings = try BwLehrpoolSettings(environment)
        logger = context.logger
        temporaryDirectory = context.temporaryDirectory
        egress = context.egress
        progress = context.progress
        do {
            try egress.check(host: settings.satelliteHost, what: "the satellite \(settings.satelliteHost)")
            try egress.check(host: settings.masterHost, what: "the master \(settings.masterHost)")
        } catch let refusal as EgressRefusal {
            throw AdapterError(.invalidConfiguration, refusal.message)
        }
        try context.checkHostFile(settings.caBundle, setting: "specifics.caBundle")
    }

    // MARK: sessions

    struct Session {
        var data: ClientSessionData
        var satellite: SatelliteServer
        var security: TransportSecurity
    }

    /// Logs in at the master and opens a fresh satellite connection (one per job).
    func session() async throws -> Session {
        let data = try await mapped("logging in at the master \(settings.masterHost):\(settings.masterPort)") {
            let master = MasterServer(client: try await ThriftClient.connect(
                host: settings.masterHost, port: settings.masterPort, security: settings.masterSecurity, egress: egress))
            defer { Task { await master.client.close() } }
            _ = try await master.ping()
            return try await master.localAccountLogin(login: settings.username, password: settings.password)
        }
        let security = settings.satelliteSecurity(published: data.satellites)
        let satellite = try await mapped("connecting to the satellite \(settings.satelliteHost):\(settings.satellitePort)") {
            let client = try await ThriftClient.connect(host: settings.satelliteHost, port: settings.satellitePort, security: security,
                                                        egress: egress)
            let satellite = SatelliteServer(client: client, token: data.authToken)
            _ = try await satellite.getVersion()
            return satellite
        }
        return Session(data: data, satellite: satellite, security: security)
    }

    package func health() async -> AdapterHealth {
        do {
            let session = try await session()
            defer { Task { await session.satellite.client.close() } }
            try await mapped("checking the token at the satellite") { try await session.satellite.whoami() }
            return AdapterHealth(status: .healthy, message: "satellite \(settings.satelliteHost):\(settings.satellitePort), user \(settings.username)")
        } catch let error as AdapterError {
            return .unhealthy(error.message)
        } catch {
            return .unhealthy("\(error)")
        }
    }

    package func listImages() async throws -> [RemoteImage] {
        let session = try await session()
        defer { Task { await session.satellite.client.close() } }
        var images: [RemoteImage] = []
        for page in Int32(0)..<10_000 {
            let items = try await mapped("listing images") { try await session.satellite.getImageList(page: page) }
            images += items.map {
                RemoteImage(reference: $0.imageBaseId, title: $0.imageName, contenttype: $0.virtId == "vmware" ? .diskVmdk : nil,
                            size: $0.fileSize)
            }
            if items.count < 200 { break }
        }
        return images
    }

    // MARK: import

    package func importImage(reference: String) async throws -> ImageSource {
        let (baseID, versionID) = Self.split(reference)
        let session = try await session()
        let (details, version, transfer): (ImageDetailsRead, ImageVersionDetails, TransferInformation)
        do {
            defer { Task { await session.satellite.client.close() } }
            details = try await mapped("the bwLehrpool image \(baseID)") { try await session.satellite.getImageDetails(baseID) }
            let wanted = versionID ?? details.latestVersionId ?? ""
            guard let found = details.versions.first(where: { $0.versionId == wanted }) else {
                throw AdapterError(.notFound, "the bwLehrpool image \(baseID) has no version \(wanted.isEmpty ? "(no latest version)" : wanted)")
            }
            version = found
            transfer = try await mapped("requesting the download of version \(found.versionId)") {
                try await session.satellite.requestDownload(found.versionId)
            }
        }
        let port = settings.plain ? transfer.plainPort : transfer.sslPort
        guard port > 0 else {
            throw AdapterError(.remoteError, "the satellite offers no \(settings.plain ? "plain" : "TLS") transfer port")
        }
        let download: BlockDownload
        let first: [UInt8]?
        do {
            download = try await BlockDownload(host: settings.satelliteHost, port: port, security: session.security, token: transfer.token,
                                               size: version.fileSize, hashes: transfer.blockHashes, compress: settings.compress,
                                               egress: egress)
            first = try await download.next()
        } catch {
            await cancelDownload(transfer.token)
            throw Self.adapterError(error, doing: "downloading version \(version.versionId)")
        }
        let contenttype = Self.contenttype(of: first ?? [])
        var specifics: [String: JSONValue] = [
            "imageBaseId": .string(details.imageBaseId), "imageVersionId": .string(version.versionId),
            "imageName": .string(details.imageName), "fileSize": .number(Double(version.fileSize)),
        ]
        if let description = details.description { specifics["description"] = .string(description) }
        if let osId = details.osId { specifics["osId"] = .number(Double(osId)) }
        if let virtId = details.virtId { specifics["virtId"] = .string(virtId) }
        if let machine = transfer.machineDescription { specifics["machineDescription"] = .string(Data(machine).base64EncodedString()) }

        let state = DownloadState(first: first, download: download)
        let token = transfer.token
        let content = ByteStream { [self] in
            do {
                return try await state.next()
            } catch {
                await cancelDownload(token)
                throw Self.adapterError(error, doing: "downloading version \(version.versionId)")
            }
        }
        return ImageSource(contenttype: contenttype, title: details.imageName, expectedSize: version.fileSize,
                           specifics: .object(specifics), content: content)
    }

    private func cancelDownload(_ token: String) async {
        guard let session = try? await session() else { return }
        try? await session.satellite.cancelDownload(token)
        await session.satellite.client.close()
    }

    /// `QFI\xfb` → qcow2, `KDMV` or a VMDK descriptor → VMDK, anything else raw.
    static func contenttype(of head: [UInt8]) -> ContentType {
        if head.starts(with: [0x51, 0x46, 0x49, 0xFB]) { return .diskQcow2 }
        if head.starts(with: Array("KDMV".utf8)) || head.starts(with: Array("# Disk DescriptorFile".utf8)) { return .diskVmdk }
        return .diskRaw
    }

    // MARK: deploy

    package func deploy(_ image: ImageDescription, content: ByteStream) async throws -> DeploymentReference {
        guard image.contenttype == .diskVmdk else {
            throw AdapterError(.unsupported, "bwLehrpool satellites take VMware disks (disk-vmdk), not \(image.contenttype.rawValue)")
        }
        // The store's file serves the ranges when there is one; else a temporary copy does.
        let spool = if let file = image.localFile {
            try await Spool.hash(file, expecting: image)
        } else {
            try await Spool.write(content, into: temporaryDirectory, expecting: image)
        }
        defer { if spool.isTemporary { try? FileManager.default.removeItem(at: spool.file) } }

        let session = try await session()
        defer { Task { await session.satellite.client.close() } }
        let name = Self.printable(image.title)
        let baseID = try await mapped("creating the image") { try await session.satellite.createImage(name: name) }
        var uploadToken: String?
        do {
            let details = try await mapped("reading the new image") { try await session.satellite.getImageDetails(baseID) }
            let specifics = image.specifics?.unwrappingEncodedString
            let osId = try await operatingSystem(specifics: specifics, session: session)
            let virtId = specifics?["virtId"]?.stringValue ?? settings.virtId ?? "vmware"
            let permissions = details.defaultPermissions
                ?? ThriftStruct([(1, .bool(false)), (2, .bool(false)), (3, .bool(false)), (4, .bool(false))])
            let write = ThriftStruct([
                (1, .string(name)),
                (2, .string(specifics?["description"]?.stringValue ?? "Deployed by ViCE Registry from image \(image.imageID)")),
                (3, .i32(osId)), (4, .string(virtId)), (5, .bool(false)), (6, .structure(permissions)), (7, .i32(0)),
            ])
            try await mapped("describing the image") { try await session.satellite.updateImageBase(baseID, write) }
            let machine = specifics?["machineDescription"]?.stringValue.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) }
                ?? MachineDescription.vmx(title: name, virtId: virtId)
            let transfer = try await mapped("requesting the upload") {
                try await session.satellite.requestImageVersionUpload(baseID, size: spool.size, hashes: spool.blockHashes,
                                                                      machineDescription: machine)
            }
            uploadToken = transfer.token
            let port = settings.plain ? transfer.plainPort : transfer.sslPort
            guard port > 0 else { throw AdapterError(.remoteError, "the satellite offers no transfer port") }
            progress.phase(.uploading)
            do {
                try await BlockUpload.run(host: settings.satelliteHost, port: port, security: session.security,
                                          token: transfer.token, file: spool.file, size: spool.size, egress: egress)
            } catch {
                throw Self.adapterError(error, doing: "uploading")
            }
            progress.phase(.waitingForTarget)
            try await waitUntilFinished(transfer.token, size: spool.size, session: session)
            return DeploymentReference(reference: "\(baseID)/\(transfer.token)")
        } catch {
            logger.warning("deploy to bwLehrpool failed after creating image \(baseID); cancelling and deleting it: \(error)")
            // In a task of its own: the cleanup must run also when the job is being cancelled.
            let (satellite, token) = (session.satellite, uploadToken)
            await Task.detached {
                if let token { try? await satellite.cancelUpload(token) }
                try? await satellite.deleteImageBase(baseID)
            }.value
            throw error
        }
    }

    private func operatingSystem(specifics: JSONValue?, session: Session) async throws -> Int32 {
        if let given = specifics?["osId"]?.textValue.flatMap({ Int32($0) }) ?? settings.osId { return given }
        let systems = (try? await session.satellite.getOperatingSystems()) ?? []
        return (systems.first { $0.osName.lowercased().contains("other") } ?? systems.first)?.osId ?? 0
    }

    /// Polls `queryUploadStatus` until FINISHED (2) or ERROR (3): at once, then every 0.1 s
    /// growing to 2 s (the satellite finishes right after DONE, or hashes a large file first).
    private func waitUntilFinished(_ token: String, size: Int64, session: Session) async throws {
        let deadline = ContinuousClock.now + .seconds(600 + 60 * Int(size >> 30))
        var interval = Duration.milliseconds(100)
        while true {
            let status = try await mapped("querying the upload") { try await session.satellite.queryUploadStatus(token) }
            switch status.state {
            case 2: return
            case 3: throw AdapterError(.remoteError, "the satellite reports the upload as failed", transient: true)
            default: break
            }
            guard ContinuousClock.now < deadline else { throw AdapterError(.unavailable, "the satellite did not finish the upload in time") }
            try await Task.sleep(for: interval)
            interval = min(interval * 2, .seconds(2))
        }
    }

    // MARK: remove

    package func remove(reference: String) async throws {
        let (baseID, _) = Self.split(reference)
        let session = try await session()
        defer { Task { await session.satellite.client.close() } }
        do {
            try await session.satellite.deleteImageBase(baseID)
        } catch ThriftError.notFound {
            return
        } catch ThriftError.invocation(let number, _) where number == 2 {
            return
        } catch {
            throw Self.adapterError(error, doing: "deleting image \(baseID)")
        }
    }

    // MARK: helpers

    /// `base` or `base/version`.
    package static func split(_ reference: String) -> (String, String?) {
        let parts = reference.trimmingCharacters(in: .whitespaces).split(separator: "/", maxSplits: 1).map(String.init)
        return (parts.first ?? "", parts.count > 1 ? parts[1] : nil)
    }

    /// Satellites want printable names of at most 100 characters.
    static func printable(_ title: String) -> String {
        let cleaned = String(title.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }.map(Character.init))
            .trimmingCharacters(in: .whitespaces)
        return String((cleaned.isEmpty ? "ViCE image" : cleaned).prefix(100))
    }

    func mapped<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw Self.adapterError(error, doing: what)
        }
    }

    static func adapterError(_ error: any Error, doing what: String) -> AdapterError {
        // The master and satellite are the caller's choice: their words are bounded and printable.
        let mapped = unboundedAdapterError(error, doing: what)
        return AdapterError(mapped.code, RemoteText.excerpt(mapped.message, limit: 500), transient: mapped.isTransient)
    }

    private static func unboundedAdapterError(_ error: any Error, doing what: String) -> AdapterError {
        switch error {
        case let error as AdapterError: return error
        case let error as ThriftError:
            switch error {
            case .authorization(let number, let message):
                return AdapterError(.authenticationFailed, "\(what): \(ThriftError.authorizationNames[Int(number)] ?? "\(number)"): \(message)")
            case .notFound(let message): return AdapterError(.notFound, "\(what): \(message.isEmpty ? "not found" : message)")
            case .invocation(let number, let message) where number == 2:
                return AdapterError(.notFound, "\(what): unknown image: \(message)")
            case .transferRejected(let message):
                return AdapterError(.unavailable, "\(what): the satellite rejected the transfer: \(message)")
            case .invalidToken: return AdapterError(.remoteError, "\(what): the satellite does not know the transfer token", transient: true)
            default: return AdapterError(.remoteError, "\(what): \(error)")
            }
        case let error as SocketConnection.Failure:
            return AdapterError(error.isRefusal ? .invalidConfiguration : .unavailable, "\(what): \(error.description)",
                                transient: !error.isRefusal)
        case let error as BlockTransferError:
            switch error {
            case .integrity(let message): return AdapterError(.integrity, "\(what): \(message)", transient: true)
            case .remote(let message): return AdapterError(.remoteError, "\(what): the satellite aborted the transfer: \(message)", transient: true)
            case .protocolError(let message): return AdapterError(.remoteError, "\(what): \(message)", transient: true)
            }
        default: return AdapterError(.remoteError, "\(what): \(error)", transient: true)
        }
    }
}

/// The first block (read early, for the content type), then the rest of the download.
private actor DownloadState {
    var first: [UInt8]?
    let download: BlockDownload

    init(first: [UInt8]?, download: BlockDownload) {
        self.first = first
        self.download = download
    }

    func next() async throws -> [UInt8]? {
        if let block = first {
            first = nil
            return block
        }
        return try await download.next()
    }
}
