package import Foundation

/// An upload in progress: the image it is for and the ingest its bytes go to.
package struct Upload: Sendable {
    package let imageID: String
    let ingest: any BlobIngest

    /// The ingest's name in the blob store.
    package var ingestID: IngestID { ingest.id }

    /// Appends bytes (the store hashes and counts them).
    package func write(_ chunk: some ByteChunk) async throws {
        try await ingest.write(chunk)
    }

    /// Ends writing: the bytes are durable; their digest and size, as the store counted them.
    package func seal() async throws -> BlobRef {
        try await ingest.seal()
    }
}

/// What the store job of an upload needs: the sealed ingest, and what the store said it holds
/// (found again by digest when a crash came between committing and recording it).
struct StoreParameters: JobParameters {
    static let kind = JobKind.storeImage
    var ingest: IngestID
    var blob: BlobRef
}

/// The committed bytes of an image, for download.
package struct ImageFile: Sendable {
    package let image: Image
    package let digest: String
    package let size: Int64
    package let file: URL?
}

/// Uploading an image's bytes: the request writes them into an ingest and seals it; a store job
/// inspects and commits them. Downloads read the committed blob.
extension Registry {
    /// Starts an upload to one of the caller's images.
    package func beginUpload(imageID: String, owner: UserRecord) async throws -> Upload {
        _ = try await ownedImage(id: imageID, owner: owner)
        return Upload(imageID: imageID, ingest: try await blobs.beginIngest())
    }

    /// Ends an upload whose bytes are all written: seals them, marks the image `storing` and
    /// queues the store job that inspects and commits them.
    package func finishUpload(_ upload: Upload, owner: UserRecord) async throws -> Image {
        let maxAttempts = options.maxJobAttempts
        let stored: StoredImage
        do {
            let blob = try await upload.seal()
            let job = try Job(subjectID: upload.imageID, parameters: StoreParameters(ingest: upload.ingestID, blob: blob),
                              maxAttempts: maxAttempts)
            stored = try await store.write { tx in
                guard let stored = try tx.image(id: upload.imageID), owner.mayManage(stored.userid) else {
                    throw ViceError.notFound("image \(upload.imageID) not found")
                }
                var lifecycle = ImageLifecycle(stored.image)
                lifecycle.beginStore()
                var storing = stored.with(lifecycle)
                storing.image.jobId = try self.enqueue(job, ownerID: stored.userid, in: tx)
                try tx.updateImage(storing)
                return storing
            }
        } catch {
            await upload.ingest.cancel()
            throw error
        }
        notify(.store)
        return try render(stored)
    }

    /// Drops an upload that failed or was refused.
    package func abortUpload(_ upload: Upload) async {
        await upload.ingest.cancel()
    }

    /// The committed bytes of an image the caller may see; 409 while there are none.
    package func imageFile(id: String, owner: UserRecord) async throws -> ImageFile {
        let stored = try await visibleImage(id: id, to: owner)
        guard stored.image.servesBytes, let digest = stored.image.checksum, let size = stored.image.size else {
            throw ViceError.conflict(
                "image \(id) has no stored bytes yet (status \(stored.image.status?.rawValue ?? "queued"))")
        }
        return ImageFile(image: try render(stored, for: owner), digest: digest, size: size, file: try blobs.localFile(of: digest))
    }

    /// The bytes of an image file (`range`: inclusive offsets), for stores without local files.
    package func bytes(of file: ImageFile, range: ClosedRange<Int64>?) async throws -> ByteStream {
        if let range { return try await blobs.get(file.digest, range: range) }
        return try await blobs.get(file.digest)
    }

    /// At start-up: cancels ingests that no store job refers to (uploads cut off by a crash).
    @discardableResult
    package func removeOrphanedIngests() async throws -> Int {
        let referenced = Set(try await queuedUploads().map(\.ingest))
        var removed = 0
        for id in try await blobs.pendingIngests() where !referenced.contains(id) {
            await blobs.discardIngest(id)
            removed += 1
        }
        return removed
    }

    /// What the queued store jobs are to commit. A job whose parameters cannot be read refers
    /// to nothing (it fails when it runs).
    func queuedUploads() async throws -> [StoreParameters] {
        let jobs = try await store.read { try $0.jobs(kind: .storeImage) }
        return jobs.compactMap { try? $0.parameters(StoreParameters.self) }
    }

    // MARK: the store job

    func performStore(_ job: Job, progress: ProgressReporter) async throws {
        let parameters = try job.parameters(StoreParameters.self)
        guard let stored = try await store.read({ try $0.image(id: job.subjectID) }) else {
            await blobs.discardIngest(parameters.ingest)
            return try await dropJob(job)
        }
        if let ingest = try await blobs.sealedIngest(parameters.ingest) {
            let contenttype: ContentType
            let lease: BlobLease
            do {
                progress.phase(.verifying)
                progress.bytes(done: 0, total: parameters.blob.size)
                contenttype = try await Self.checkedType(of: try await ingest.reader(), declared: stored.image.contenttype,
                                                         suffix: "; the upload was discarded")
                progress.phase(.storing)
                lease = try await ingest.commit(expecting: parameters.blob.digest)
                progress.bytes(done: parameters.blob.size, total: parameters.blob.size)
            } catch let error as ViceError where error.code == .invalidInput {
                await ingest.cancel()
                throw error
            }
            try await record(lease, on: job.subjectID, finishing: job, contenttype: contenttype)
        } else if let lease = try await blobs.retain(parameters.blob.digest) {
            // Committed by a run that crashed before recording it: the blob is already in place.
            try await record(lease, on: job.subjectID, finishing: job, contenttype: stored.image.contenttype)
        } else {
            throw ViceError.invalidInput("the uploaded bytes are gone; upload the file again")
        }
    }

    /// Records committed bytes on an image (active, size, checksum, and `imported` when they came
    /// from the origin) and ends the job, in one
    /// transaction, then lets go of the lease; frees the bytes the image held before, or the new
    /// ones when the image was deleted meanwhile, if no other image holds them.
    func record(_ lease: BlobLease, on imageID: String, finishing job: Job, contenttype: ContentType?,
                title: String? = nil, specifics: JSONValue? = nil) async throws {
        let imported = job.kind == .importImage
        let blob = lease.blob
        let outcome: (previous: String?, exists: Bool)
        let store = self.store
        do {
            outcome = try await recording {
                try await store.write { tx -> (String?, Bool) in
                    try self.succeed(job, in: tx)
                    guard let current = try tx.image(id: imageID) else { return (nil, false) }
                    var lifecycle = ImageLifecycle(current.image)
                    let previous = lifecycle.commit(blob, imported: imported, contenttype: contenttype, title: title, specifics: specifics)
                    try tx.updateImage(current.with(lifecycle))
                    return (previous, true)
                }
            }
        } catch {
            lease.release()
            throw error
        }
        lease.release()
        if !outcome.exists {
            try await releaseBlobIfUnused(blob.digest)
        } else if let previous = outcome.previous, previous != blob.digest {
            try await releaseBlobIfUnused(previous)
        }
    }
}
