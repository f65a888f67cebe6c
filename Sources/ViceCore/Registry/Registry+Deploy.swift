import Foundation
import Logging

/// How an image goes into an environment, decided once by the same rules when the deployment is
/// asked for (refused at the edge) and again when its job runs (the image may have changed).
struct DeployPlan: Sendable {
    var descriptor: AdapterDescriptor
    /// The image's own format; nil while it has none yet (an upload still to come).
    var source: ContentType?
    /// What the adapter receives: the image's format, or a disk format it is converted to.
    var format: ContentType?

    var needsConversion: Bool { source != format }
}

/// Deploying an image into an environment: the request, the plan, the deploy job and the disk
/// conversion some targets need.
extension Registry {
    /// `POST /deploy`: checks that the image and the environment are ones the caller may use and
    /// that the environment's adapter can take the image, then queues a deploy job. Anything
    /// unusable is refused (405) before a job exists.
    package func createDeployment(_ input: Deployment, owner: UserRecord) async throws -> Deployment {
        let imageID = try Validate.id(input.imageid, field: "imageid")
        let environmentID = try Validate.id(input.environmentId, field: "environmentId")
        try Validate.title(input.title)
        let maxAttempts = options.maxJobAttempts
        let now = Date()
        let configured = configuredEnvironment(id: environmentID, visibleTo: owner)
        let deployment = try await withFreshID { id in
            try await self.store.write { tx -> Deployment in
                // A shared or public image of someone else goes into the caller's own environment.
                guard let image = try tx.image(id: imageID), image.image.isVisible(to: owner) else {
                    throw ViceError.invalidInput("imageid '\(imageID)' does not name an image you may use")
                }
                let target: Environment
                if let configured {
                    target = configured.environment
                } else if let stored = try tx.environment(id: environmentID), stored.environment.isUsable(by: owner) {
                    target = stored.environment
                } else {
                    throw ViceError.invalidInput("environmentId '\(environmentID)' does not name one of your environments")
                }
                if image.image.status == .failed || image.image.status == .cancelled {
                    throw ViceError.invalidInput(
                        "image \(imageID) is \(image.image.status!.rawValue) and has no content to deploy: \(image.image.statusMessage ?? "")")
                }
                _ = try self.deployPlan(for: image.image, into: target)
                var deployment = Deployment(
                    id: id, title: input.title ?? image.image.title, userid: owner.id, imageid: imageID,
                    environmentId: environmentID, status: DeploymentLifecycle.initialStatus, createdAt: now, updatedAt: now)
                let job = Job(kind: .deploy, subjectID: id, maxAttempts: maxAttempts)
                deployment.jobId = job.id
                try tx.insertDeployment(deployment)
                _ = try self.enqueue(job, ownerID: owner.id, in: tx)
                return deployment
            }
        }
        notify(.export)
        return deployment
    }

    package func deployment(id: String, owner: UserRecord) async throws -> Deployment {
        guard let deployment = try await store.read({ try $0.deployment(id: id) }), owner.mayManage(deployment.userid) else {
            throw ViceError.notFound("deployment \(id) not found")
        }
        return deployment
    }

    package func deployments(owner: UserRecord, page: PageRequest) async throws -> Page<Deployment> {
        try Validate.pageLimit(page)
        let rows = try await store.read { try $0.deployments(owner: owner.listedOwner, page: page) }
        return rows.paged(page, id: { $0.id ?? "" })
    }

    /// The plan for `image` into `environment`; refuses what the environment's adapter cannot
    /// take, even converted.
    func deployPlan(for image: Image, into environment: Environment) throws -> DeployPlan {
        let descriptor = try catalog.descriptor(for: environment)
        guard let contenttype = image.contenttype else { return DeployPlan(descriptor: descriptor, source: nil, format: nil) }
        guard let format = deployableType(of: contenttype, for: descriptor) else {
            let supported = descriptor.capabilities.deploys.map(\.rawValue).sorted().joined(separator: ", ")
            throw ViceError.invalidInput(
                "the \(descriptor.kind) adapter cannot deploy \(contenttype.rawValue) images (it deploys: \(supported))")
        }
        return DeployPlan(descriptor: descriptor, source: contenttype, format: format)
    }

    /// The format to deploy `contenttype` as into an adapter described by `descriptor`: the
    /// image's own when the adapter takes it, else a disk format the converter can make (VMDK,
    /// then qcow2, then raw), else nil.
    func deployableType(of contenttype: ContentType, for descriptor: AdapterDescriptor) -> ContentType? {
        if descriptor.capabilities.canDeploy(contenttype) { return contenttype }
        guard let converter else { return nil }
        return [ContentType.diskVmdk, .diskQcow2, .diskRaw].first {
            descriptor.capabilities.canDeploy($0) && converter.canConvert(from: contenttype, to: $0)
        }
    }

    // MARK: the deploy job

    func performDeploy(_ job: Job, progress: ProgressReporter) async throws {
        guard let deployment = try await store.read({ try $0.deployment(id: job.subjectID) }),
              deployment.status != .removing else { return try await dropJob(job) }
        let imageID = deployment.imageid ?? ""
        guard let image = try await store.read({ try $0.image(id: imageID) }) else {
            throw ViceError.invalidInput("image \(imageID) was deleted")
        }
        // A shared image whose owner stopped sharing it is not deployed any more.
        if image.userid != deployment.userid {
            guard let owner = try await user(id: deployment.userid), image.image.isVisible(to: owner) else {
                throw ViceError.invalidInput("image \(imageID) is no longer shared with the owner of this deployment")
            }
        }
        progress.phase(.waitingForImage)
        try waitForBytes(of: image.image, since: deployment.createdAt)
        guard let checksum = image.image.checksum, let size = image.image.size else {
            throw ViceError(.internal, "active image \(imageID) lacks size or checksum")
        }
        let environmentID = deployment.environmentId ?? ""
        guard let target = try await environmentForJob(id: environmentID, ownerID: deployment.userid ?? "") else {
            throw ViceError.invalidInput("environment \(environmentID) was deleted")
        }
        let adapter = try await adapter(for: target, ownerID: deployment.userid, progress: progress)
        let plan = try deployPlan(for: image.image, into: target)
        guard let source = plan.source, let format = plan.format else {
            throw ViceError(.internal, "active image \(imageID) lacks a content type")
        }
        // The image's bytes are held from before the deployment shows `deploying` until they are
        // read (adapters may open the file more than once): deleting the image meanwhile frees
        // them only afterwards.
        guard let held = try await blobs.retain(checksum) else {
            throw ViceError.invalidInput("the bytes of image \(imageID) are gone from the store")
        }
        let reference: DeploymentReference
        do {
            let started = try await store.write { tx -> Deployment? in
                guard let current = try tx.deployment(id: job.subjectID) else { return nil }
                var lifecycle = DeploymentLifecycle(current)
                do { try lifecycle.beginDeploy() } catch { return nil }  // a removal was asked for meanwhile
                try tx.updateDeployment(lifecycle.deployment)
                return lifecycle.deployment
            }
            guard let started else {
                try? await release(held)
                return try await dropJob(job)
            }
            reference = try await deploy(image, checksum: checksum, size: size, plan: plan, source: source, format: format,
                                         deployment: started, to: adapter, progress: progress)
        } catch {
            try? await release(held)
            throw error
        }
        try? await release(held)
        let store = self.store
        let surplus: String?
        do {
            surplus = try await recording {
                try await store.write { tx -> String? in
                    try self.succeed(job, in: tx)
                    guard let current = try tx.deployment(id: job.subjectID) else { return nil }
                    var lifecycle = DeploymentLifecycle(current)
                    let surplus = lifecycle.deployed(reference: reference.reference)
                    try tx.updateDeployment(lifecycle.deployment)
                    return surplus
                }
            }
        } catch let stale as StaleLease {
            // Fenced off: the worker that took the job over records its own copy; this one goes.
            logger.warning("deployment \(job.subjectID) was taken over by another worker; removing this attempt's copy \(reference.reference)")
            try? await adapter.remove(reference: reference.reference)
            throw stale
        }
        if let surplus {
            logger.warning("deployment \(job.subjectID) was deployed twice; removing the second copy \(surplus)")
            try? await adapter.remove(reference: surplus)
        }
    }

    /// Sends the image (or a converted copy) to the adapter; answers where it went.
    private func deploy(_ image: StoredImage, checksum: String, size: Int64, plan: DeployPlan, source: ContentType,
                        format: ContentType, deployment: Deployment, to adapter: MeteredAdapter,
                        progress: ProgressReporter) async throws -> DeploymentReference {
        // Checked again before anything leaves: the rules may be stricter than when it came in.
        progress.phase(.verifying)
        try await inspectStored(checksum, as: source)
        var description = ImageDescription(
            imageID: image.id, title: image.image.title ?? image.id, contenttype: source, imagetype: image.image.imagetype,
            size: size, checksum: checksum, specifics: image.image.specifics, deploymentID: deployment.id ?? "",
            deploymentTitle: deployment.title)
        guard plan.needsConversion else {
            description.localFile = try? blobs.localFile(of: checksum)
            return try await adapter.deploy(description, content: progress.counting(try await blobs.get(checksum), phase: .uploading, total: size))
        }
        // The target wants another format: a converted copy is deployed, then freed.
        progress.phase(.converting)
        let converted = try await convert(checksum, from: source, to: format)
        do {
            description.contenttype = format
            description.size = converted.blob.size
            description.checksum = converted.blob.digest
            description.localFile = try? blobs.localFile(of: converted.blob.digest)
            let content = progress.counting(try await blobs.get(converted.blob.digest), phase: .uploading, total: converted.blob.size)
            let reference = try await adapter.deploy(description, content: content)
            try? await release(converted)
            return reference
        } catch {
            try? await release(converted)
            throw error
        }
    }

    /// Throws unless the image has bytes to deploy: a failure for a failed image or one that got
    /// none within the limit, a deferral while they may still come.
    private func waitForBytes(of image: Image, since created: Date?) throws {
        let id = image.id ?? ""
        switch image.status {
        case .active?: return
        case .failed?, .cancelled?:
            throw ViceError.invalidInput("image \(id) is \(image.status!.rawValue): \(image.statusMessage ?? "no content")")
        default:
            let status = image.status?.rawValue ?? "queued"
            // Bounded: an image that never gets its bytes fails the deployment after the limit.
            if Date().timeIntervalSince(created ?? Date()) > options.deployWaitLimit {
                throw ViceError.invalidInput("image \(id) got no stored bytes within \(Int(options.deployWaitLimit)) s (status \(status))")
            }
            throw JobDeferred(delay: 2, reason: "waiting for image \(id) to be stored (status \(status))")
        }
    }

    // MARK: conversion

    /// Converts the blob with the disk converter into a scratch file next to the adapters' and
    /// ingests the result: the converted copy is a blob of its own, held by the returned lease
    /// while it is deployed. The image's blob is only read.
    func convert(_ digest: String, from: ContentType, to: ContentType) async throws -> BlobLease {
        guard let converter else { throw ViceError(.internal, "no disk converter is configured") }
        let directory = catalog.temporaryDirectory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var input = try blobs.localFile(of: digest)
        var spooled: URL?
        defer { if let spooled { try? FileManager.default.removeItem(at: spooled) } }
        if input == nil {
            // A store without local files: the converter needs one.
            let file = directory.appendingPathComponent("convert-in-\(UUID().uuidString)")
            _ = FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600])
            let handle = try FileHandle(forWritingTo: file)
            for try await chunk in try await blobs.get(digest) { try handle.write(contentsOf: chunk) }
            try handle.close()
            spooled = file
            input = file
        }
        let output = directory.appendingPathComponent("convert-\(UUID().uuidString).\(to.rawValue)")
        defer { try? FileManager.default.removeItem(at: output) }
        logger.info("converting \(digest) from \(from.rawValue) to \(to.rawValue) for a deployment")
        try await converter.convert(input!, from: from, to: to, output: output)
        return try await blobs.ingest(try ByteStream.file(output)).commit(expecting: nil)
    }

    /// Lets go of a held blob (the image's, or a converted copy) and frees it unless an image
    /// holds the same bytes.
    private func release(_ held: BlobLease) async throws {
        held.release()
        try await releaseBlobIfUnused(held.blob.digest)
    }
}
