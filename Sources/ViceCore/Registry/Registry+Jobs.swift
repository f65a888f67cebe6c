import Foundation

extension Registry: JobHandler {
    public func perform(_ job: Job) async throws {
        switch job.kind {
        case .importImage: try await performImport(job)
        case .deploy: try await performDeploy(job)
        case .removeDeployment: try await performRemoval(job)
        case .storeImage: try await performStore(job)
        }
    }

    public func recordFailure(of job: Job, error: any Error, retryAt: Date?) async throws {
        let message = Self.describe(error)
        let deferred = error is JobDeferred
        try await store.write { tx in
            if let retryAt {
                var next = job
                next.state = .pending
                next.runAt = retryAt
                next.leaseOwner = nil
                next.leaseExpires = nil
                next.lastError = message
                if deferred { next.attempts -= 1 }
                try tx.updateJob(next)
            } else {
                try tx.deleteJob(id: job.id)
            }
            let note = retryAt == nil
                ? message
                : deferred ? message : "attempt \(job.attempts) of \(job.maxAttempts) failed: \(message); retrying"
            switch job.kind {
            case .importImage, .storeImage:
                guard var stored = try tx.image(id: job.subjectID) else { return }
                let what = job.kind == .importImage ? "import" : "upload"
                if retryAt != nil {
                    if stored.image.status != .active && job.kind == .importImage { stored.image.status = .queued }
                    stored.image.statusMessage = note
                } else if stored.image.checksum != nil {
                    // The image keeps the bytes it had; only the new ones were refused.
                    stored.image.status = .active
                    stored.image.statusMessage = "the last \(what) failed: \(note)"
                } else {
                    stored.image.status = .failed
                    stored.image.statusMessage = "\(what) failed: \(note)"
                }
                stored.image.updatedAt = Date()
                try tx.updateImage(stored)
            case .deploy, .removeDeployment:
                guard var deployment = try tx.deployment(id: job.subjectID) else { return }
                if retryAt == nil {
                    deployment.status = .failed
                    deployment.statusMessage = job.kind == .deploy ? "deployment failed: \(note)" : "removal failed: \(note)"
                } else {
                    deployment.statusMessage = note
                }
                deployment.updatedAt = Date()
                try tx.updateDeployment(deployment)
            }
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as ViceError: error.message
        case let error as AdapterError: error.message
        case let error as JobDeferred: error.reason
        default: String(describing: error)
        }
    }

    // MARK: import

    func performImport(_ job: Job) async throws {
        guard let stored = try await store.read({ try $0.image(id: job.subjectID) }) else {
            try await store.write { try $0.deleteJob(id: job.id) }
            return
        }
        guard let origin = try await originEnvironment(of: stored), let reference = stored.image.environmentReference else {
            throw ViceError.invalidInput("the image has no origin environment and reference to import from")
        }
        try await setImageStatus(stored.id, .importing)
        let adapter = try await adapter(for: origin, ownerID: stored.userid)
        let source = try await adapter.importImage(reference: reference)
        if let declared = stored.image.contenttype, declared != source.contenttype {
            throw ViceError.invalidInput(
                "the origin holds a \(source.contenttype.rawValue) image, but the image is declared \(declared.rawValue)")
        }
        if let expected = source.expectedSize, expected > options.maxImageBytes {
            throw ViceError(.payloadTooLarge, "the origin's image has \(expected) bytes; this registry takes images up to \(options.maxImageBytes) bytes")
        }
        let blob = try await blobs.put(source.content.limited(to: options.maxImageBytes))
        do {
            try await inspectStored(blob.digest, as: source.contenttype)
        } catch {
            try await releaseBlobIfUnused(blob.digest)
            throw error
        }
        if let expected = source.expectedSize, expected != blob.size {
            try await releaseBlobIfUnused(blob.digest)
            throw AdapterError(.integrity, "the origin announced \(expected) bytes but sent \(blob.size)", transient: true)
        }
        try await commit(blob, to: stored.id, finishing: job, contenttype: source.contenttype,
                         title: source.title, specifics: source.specifics)
    }

    /// Records committed bytes on an image (active, size, checksum) and ends the job, in one
    /// transaction; then frees the bytes the image held before, or the new ones when the image was
    /// deleted meanwhile, if no other image holds them.
    func commit(_ blob: BlobRef, to imageID: String, finishing job: Job, contenttype: ContentType?,
                title: String? = nil, specifics: JSONValue? = nil) async throws {
        let (previous, exists) = try await store.write { tx -> (String?, Bool) in
            guard var current = try tx.image(id: imageID) else {
                try tx.deleteJob(id: job.id)
                return (nil, false)
            }
            let previous = current.image.checksum
            current.image.status = .active
            current.image.statusMessage = nil
            current.image.imported = true
            current.image.size = blob.size
            current.image.checksum = blob.digest
            current.image.contenttype = contenttype ?? current.image.contenttype
            if current.image.title == nil { current.image.title = title }
            if current.image.specifics == nil { current.image.specifics = specifics }
            current.image.updatedAt = Date()
            try tx.updateImage(current)
            try tx.deleteJob(id: job.id)
            return (previous, true)
        }
        if !exists {
            try await releaseBlobIfUnused(blob.digest)
        } else if let previous, previous != blob.digest {
            try await releaseBlobIfUnused(previous)
        }
    }

    func setImageStatus(_ id: String, _ status: ImageStatus) async throws {
        try await store.write { tx in
            guard var stored = try tx.image(id: id) else { return }
            // A re-import keeps an active image usable until the new bytes are in.
            if stored.image.status != .active { stored.image.status = status }
            stored.image.updatedAt = Date()
            try tx.updateImage(stored)
        }
    }

    // MARK: deploy

    func performDeploy(_ job: Job) async throws {
        guard var deployment = try await store.read({ try $0.deployment(id: job.subjectID) }),
              deployment.status != .removing else {
            try await store.write { try $0.deleteJob(id: job.id) }
            return
        }
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
        switch image.image.status {
        case .active?: break
        case .failed?: throw ViceError.invalidInput("image \(imageID) failed: \(image.image.statusMessage ?? "no content")")
        default:
            // Bounded: an image that never gets its bytes fails the deployment after the limit.
            let waited = Date().timeIntervalSince(deployment.createdAt ?? Date())
            if waited > options.deployWaitLimit {
                throw ViceError.invalidInput(
                    "image \(imageID) got no stored bytes within \(Int(options.deployWaitLimit)) s (status \(image.image.status?.rawValue ?? "queued"))")
            }
            throw JobDeferred(delay: 2, reason: "waiting for image \(imageID) to be stored (status \(image.image.status?.rawValue ?? "queued"))")
        }
        guard let checksum = image.image.checksum, let size = image.image.size, let contenttype = image.image.contenttype else {
            throw ViceError(.internal, "active image \(imageID) lacks size, checksum or content type")
        }
        let environmentID = deployment.environmentId ?? ""
        guard let target = try await environmentForJob(id: environmentID, ownerID: deployment.userid ?? "") else {
            throw ViceError.invalidInput("environment \(environmentID) was deleted")
        }
        let adapter = try await adapter(for: target, ownerID: deployment.userid)
        let descriptor = try catalog.descriptor(for: target)
        guard let deployType = deployableType(of: contenttype, for: descriptor) else {
            throw ViceError.invalidInput("the \(descriptor.kind) adapter cannot deploy \(contenttype.rawValue) images")
        }
        deployment.status = .deploying
        deployment.updatedAt = Date()
        try await store.write { [deployment] tx in
            guard let current = try tx.deployment(id: job.subjectID), current.status != .removing else { return }
            try tx.updateDeployment(deployment)
        }
        // Checked again before anything leaves: the rules may be stricter than when it came in.
        try await inspectStored(checksum, as: contenttype)
        var description = ImageDescription(
            imageID: imageID, title: image.image.title ?? imageID, contenttype: contenttype, imagetype: image.image.imagetype,
            size: size, checksum: checksum, specifics: image.image.specifics, deploymentID: job.subjectID,
            deploymentTitle: deployment.title)
        let reference: DeploymentReference
        if deployType == contenttype {
            description.localFile = try? blobs.localFile(of: checksum)
            reference = try await adapter.deploy(description, content: try await blobs.get(checksum))
        } else {
            // The target wants another format: a converted copy is deployed, then deleted.
            let converted = try await convert(checksum, from: contenttype, to: deployType)
            defer { try? FileManager.default.removeItem(at: converted.file) }
            description.contenttype = deployType
            description.size = converted.size
            description.checksum = converted.digest
            description.localFile = converted.file
            reference = try await adapter.deploy(description, content: try ByteStream.file(converted.file))
        }
        try await store.write { tx in
            if var current = try tx.deployment(id: job.subjectID) {
                // Record the reference even when a removal was asked meanwhile: it needs it.
                current.environmentReference = reference.reference
                if current.status != .removing {
                    current.status = .deployed
                    current.statusMessage = nil
                }
                current.updatedAt = Date()
                try tx.updateDeployment(current)
            }
            try tx.deleteJob(id: job.id)
        }
    }

    // MARK: remove

    func performRemoval(_ job: Job) async throws {
        guard let deployment = try await store.read({ try $0.deployment(id: job.subjectID) }) else {
            try await store.write { try $0.deleteJob(id: job.id) }
            return
        }
        let jobs = try await store.read { try $0.jobs(subjectID: job.subjectID) }
        if jobs.contains(where: { $0.kind == .deploy && $0.state == .running }) {
            throw JobDeferred(delay: 2, reason: "waiting for the running deployment to finish before removing it")
        }
        if let reference = deployment.environmentReference,
           let target = try await environmentWithCredentials(id: deployment.environmentId ?? "") {
            // Removal only deletes what this registry put there, so it runs even for an owner who
            // lost access to the environment since; the egress policy still applies.
            let adapter = try await adapter(for: target, ownerID: deployment.userid)
            try await adapter.remove(reference: reference)
        }
        try await store.write { tx in
            for other in try tx.jobs(subjectID: job.subjectID) where other.kind == .deploy {
                try tx.deleteJob(id: other.id)
            }
            try tx.deleteDeployment(id: job.subjectID)
            try tx.deleteJob(id: job.id)
        }
    }
}

extension Registry {
    /// Inspects stored bytes as `type` (disk headers, archives); a refusal is invalid input.
    /// A store without local files is not inspected here (its uploads were, on the way in).
    func inspectStored(_ digest: String, as type: ContentType) async throws {
        guard let file = try blobs.localFile(of: digest) else { return }
        do {
            try await BlockingIO.run { try ContentInspector.check(try FileByteReader(path: file.path), is: type) }
        } catch let mismatch as ContentInspector.Mismatch {
            throw ViceError.invalidInput(mismatch.description)
        }
    }
}

extension ByteStream {
    /// The same bytes, failing (not transiently) once more than `limit` have passed.
    func limited(to limit: Int64) -> ByteStream {
        let counted = LockedBox<Int64>(0)
        let box = IteratorBox(makeAsyncIterator())
        return ByteStream {
            guard let chunk = try await box.next() else { return nil }
            let total = counted.withLock { total -> Int64 in total += Int64(chunk.count); return total }
            if total > limit {
                throw ViceError(.payloadTooLarge, "the image is larger than \(limit) bytes, the most this registry takes")
            }
            return chunk
        }
    }
}
