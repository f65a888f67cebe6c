import Foundation

/// Importing an image from its origin environment: where the origin comes from (one resolver,
/// for the request and for the job), the checks at the edge, queuing, and the import job.
extension Registry {
    /// An origin as the caller named it, resolved: one of their environments (by id) or an
    /// inline environment that is kept, sealed, with the image.
    struct ResolvedOrigin: Sendable {
        var id: String?
        var environment: Environment
    }

    /// Resolves `given` for `owner` at request time: a configured or stored environment they may
    /// use (by id), else an inline environment, validated and authorised like a created one.
    func resolveOrigin(_ given: Environment?, owner: UserRecord) async throws -> ResolvedOrigin? {
        guard let given else { return nil }
        if let id = given.id?.trimmingCharacters(in: .whitespaces).nilIfEmpty,
           let environment = try await usableOrigin(id: id, owner: owner) {
            return ResolvedOrigin(id: id, environment: environment)
        }
        guard given.managementlayer != nil else {
            throw ViceError.invalidInput("originEnvironment '\(given.id ?? "")' is not one of your environments")
        }
        // An inline environment: a copy is kept with the image, owned by the caller.
        try validate(environment: given)
        var inline = given
        inline.id = nil
        inline.userid = owner.id
        inline.readOnly = nil
        try options.environmentPolicy.authorize(inline, trusted: owner.isAdmin)
        try checkSettings(of: inline, owner: owner)
        return ResolvedOrigin(id: nil, environment: inline)
    }

    /// The origin of a stored image with credentials, as it is now: the referenced environment if
    /// the image's owner may still use it, or the sealed copy of an inline origin.
    func originEnvironment(of stored: StoredImage) async throws -> Environment? {
        if let id = stored.originEnvironmentID {
            guard let environment = try await environmentForJob(id: id, ownerID: stored.userid) else {
                throw ViceError.invalidInput("the origin environment \(id) was deleted; give the image an originEnvironment to import it again")
            }
            return environment
        }
        return try stored.sealedOrigin.map { try cipher.open(json: Environment.self, from: $0) }
    }

    /// The environment `id` with credentials when `owner` may use it: configured and listing
    /// them, or stored and theirs, shared with them, or any for an admin. The same rule as
    /// `environmentForJob`, which applies it again when the job runs.
    private func usableOrigin(id: String, owner: UserRecord) async throws -> Environment? {
        if let configured = configuredEnvironment(id: id, visibleTo: owner) { return configured.environment }
        guard let stored = try await store.read({ try $0.environment(id: id) }), stored.environment.isUsable(by: owner) else {
            return nil
        }
        return try unsealed(stored)
    }

    /// What an image keeps of its origin: an inline origin whole (it exists nowhere else), sealed;
    /// of an origin given by id only what describes it — no password, no specifics — so that no
    /// copy of an environment's secrets, least of all a configured one's, lands in image rows.
    func sealForImage(_ origin: ResolvedOrigin) throws -> Data {
        guard origin.id != nil else { return try cipher.seal(json: origin.environment) }
        var described = origin.environment
        described.credentials = described.credentials.map { Credentials(location: $0.location, username: $0.username) }
        return try cipher.seal(json: described)
    }

    /// Refuses an import the origin's adapter cannot do. An origin with no registered adapter is
    /// accepted (adapters can be added later); its job fails with a clear message.
    func checkImportable(_ contenttype: ContentType?, from origin: Environment) throws {
        guard let kind = origin.adapterKind, let descriptor = catalog.descriptor(forKind: kind), let contenttype else { return }
        guard descriptor.capabilities.canImport(contenttype) else {
            let supported = descriptor.capabilities.imports.map(\.rawValue).sorted().joined(separator: ", ")
            throw ViceError.invalidInput(
                "the \(kind) adapter cannot import \(contenttype.rawValue) images (it imports: \(supported))")
        }
    }

    /// Queues the import of `stored` in `tx` (once: a pending import is not doubled) and moves
    /// the image's lifecycle on; returns the image as it is to be written.
    func queueImport(of stored: StoredImage, in tx: any MetadataWriter) throws -> StoredImage {
        guard stored.image.environmentReference != nil else {
            throw ViceError.invalidInput("environmentReference (the image's id in the origin environment) is required to import")
        }
        let pending = try tx.jobs(subjectID: stored.id).first { $0.kind == .importImage && $0.state == .pending }
        let jobID = try pending?.id
            ?? enqueue(Job(kind: .importImage, subjectID: stored.id, maxAttempts: options.maxJobAttempts), ownerID: stored.userid, in: tx)
        var lifecycle = ImageLifecycle(stored.image)
        lifecycle.queueImport()
        var queued = stored.with(lifecycle)
        queued.image.jobId = jobID
        return queued
    }

    // MARK: the import job

    func performImport(_ job: Job, progress: ProgressReporter) async throws {
        guard let stored = try await store.read({ try $0.image(id: job.subjectID) }) else { return try await dropJob(job) }
        guard let origin = try await originEnvironment(of: stored), let reference = stored.image.environmentReference else {
            throw ViceError.invalidInput("the image has no origin environment and reference to import from")
        }
        try await beginImport(stored.id)
        progress.phase(.downloading)
        let adapter = try await adapter(for: origin, ownerID: stored.userid, progress: progress)
        let source = try await adapter.importImage(reference: reference)
        if let declared = stored.image.contenttype, declared != source.contenttype {
            throw ViceError.invalidInput(
                "the origin holds a \(source.contenttype.rawValue) image, but the image is declared \(declared.rawValue)")
        }
        if let expected = source.expectedSize, expected > options.maxImageBytes {
            throw ViceError(.payloadTooLarge, "the origin's image has \(expected) bytes; this registry takes images up to \(options.maxImageBytes) bytes")
        }
        let content = progress.counting(source.content, phase: .downloading, total: source.expectedSize)
        let ingest = try await blobs.ingest(content.limited(to: options.maxImageBytes))
        let lease: BlobLease
        do {
            let blob = try await ingest.seal()
            progress.phase(.verifying)
            try await inspect(ingest, as: source.contenttype)
            if let expected = source.expectedSize, expected != blob.size {
                throw AdapterError(.integrity, "the origin announced \(expected) bytes but sent \(blob.size)", transient: true)
            }
            progress.phase(.storing)
            lease = try await ingest.commit(expecting: nil)
        } catch {
            await ingest.cancel()
            throw error
        }
        try await record(lease, on: stored.id, finishing: job, contenttype: source.contenttype,
                         title: source.title, specifics: source.specifics)
    }

    /// The import starts: the image is importing (an active one keeps serving its bytes). While an
    /// upload of it is being stored the import waits for that instead of racing it.
    private func beginImport(_ id: String) async throws {
        try await store.write { tx in
            guard let stored = try tx.image(id: id) else { return }
            var lifecycle = ImageLifecycle(stored.image)
            do {
                if try lifecycle.beginImport() == .persist { try tx.updateImage(stored.with(lifecycle)) }
            } catch {
                throw JobDeferred(delay: 2, reason: "waiting for the upload being stored to finish (\(error))")
            }
        }
    }
}

extension ByteStream {
    /// The same bytes, failing (not transiently) once more than `limit` have passed.
    func limited(to limit: Int64) -> ByteStream {
        observed { total in
            if total > limit {
                throw ViceError(.payloadTooLarge, "the image is larger than \(limit) bytes, the most this registry takes")
            }
        }
    }
}
