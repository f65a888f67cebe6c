import Foundation

/// An upload in progress: the image it is for and the staging file its bytes go to.
public struct UploadTicket: Sendable {
    public let imageID: String
    public let stagingFile: URL
}

/// Where a store job finds its bytes.
struct StorePayload: Codable {
    var staging: String
    var digest: String
    var size: Int64
}

/// The committed bytes of an image, for download.
public struct ImageFile: Sendable {
    public let image: Image
    public let digest: String
    public let size: Int64
    public let file: URL?
}

extension Registry {
    /// Starts an upload to one of the caller's images: returns where to write the bytes.
    public func beginUpload(imageID: String, owner: UserRecord) async throws -> UploadTicket {
        _ = try await ownedImage(id: imageID, owner: owner)
        return UploadTicket(imageID: imageID, stagingFile: try blobs.makeStagingFile(for: imageID))
    }

    /// Ends an upload whose bytes are fully written (and fsynced) to the staging file: marks the
    /// image `storing` and queues the store job that inspects and commits the bytes.
    public func finishUpload(_ ticket: UploadTicket, digest: String, size: Int64, owner: UserRecord) async throws -> Image {
        let payload = String(decoding: try JSONEncoder().encode(
            StorePayload(staging: ticket.stagingFile.path, digest: digest, size: size)), as: UTF8.self)
        let maxAttempts = options.maxJobAttempts
        let stored: StoredImage
        do {
            stored = try await store.write { tx in
                guard var stored = try tx.image(id: ticket.imageID), owner.mayManage(stored.userid) else {
                    throw ViceError.notFound("image \(ticket.imageID) not found")
                }
                stored.image.status = .storing
                stored.image.statusMessage = nil
                stored.image.updatedAt = Date()
                try tx.updateImage(stored)
                try tx.insertJob(Job(kind: .storeImage, subjectID: ticket.imageID, maxAttempts: maxAttempts, payload: payload))
                return stored
            }
        } catch {
            await blobs.removeStaged(ticket.stagingFile)
            throw error
        }
        notify(.store)
        return try render(stored)
    }

    /// Drops an upload that failed or was refused.
    public func abortUpload(_ ticket: UploadTicket) async {
        await blobs.removeStaged(ticket.stagingFile)
    }

    /// The committed bytes of one of the caller's images; 409 while there are none.
    public func imageFile(id: String, owner: UserRecord) async throws -> ImageFile {
        let stored = try await visibleImage(id: id, to: owner)
        guard stored.image.status == .active || (stored.image.status == .storing && stored.image.checksum != nil),
              let digest = stored.image.checksum, let size = stored.image.size else {
            throw ViceError.conflict(
                "image \(id) has no stored bytes yet (status \(stored.image.status?.rawValue ?? "queued"))")
        }
        return ImageFile(image: try render(stored, for: owner), digest: digest, size: size, file: try blobs.localFile(of: digest))
    }

    /// At start-up: removes staged files that no store job refers to (uploads cut off by a crash).
    @discardableResult
    public func removeOrphanedStagingFiles() async throws -> Int {
        let jobs = try await store.read { try $0.jobs(kind: .storeImage) }
        let referenced = Set(jobs.compactMap { job in
            job.payload.flatMap { try? JSONDecoder().decode(StorePayload.self, from: Data($0.utf8)) }?.staging
        })
        var removed = 0
        for file in try blobs.stagedFiles() where !referenced.contains(file.path) {
            await blobs.removeStaged(file)
            removed += 1
        }
        return removed
    }

    // MARK: the store job

    func performStore(_ job: Job) async throws {
        guard let text = job.payload, let payload = try? JSONDecoder().decode(StorePayload.self, from: Data(text.utf8)) else {
            throw ViceError.invalidInput("the store job has no staged file")
        }
        let staging = URL(fileURLWithPath: payload.staging)
        guard let stored = try await store.read({ try $0.image(id: job.subjectID) }) else {
            await blobs.removeStaged(staging)
            try await store.write { try $0.deleteJob(id: job.id) }
            return
        }
        let stagedExists = FileManager.default.fileExists(atPath: staging.path)
        var contenttype = stored.image.contenttype
        if stagedExists {
            let reader = try await blobs.openStaged(staging)
            do {
                let type = contenttype ?? ContentInspector.detect(reader)
                try ContentInspector.check(reader, is: type)
                contenttype = type
            } catch let mismatch as ContentInspector.Mismatch {
                await blobs.removeStaged(staging)
                throw ViceError.invalidInput("\(mismatch.description); the upload was discarded")
            }
        } else if try await !blobs.contains(payload.digest) {
            // Neither staged nor committed: nothing left to store.
            throw ViceError.invalidInput("the uploaded bytes are gone; upload the file again")
        }
        // Committed by a run that crashed before recording it: the blob is already in place.
        let blob = stagedExists
            ? try await blobs.commitStaged(staging, digest: payload.digest)
            : BlobRef(digest: payload.digest, size: payload.size)
        try await commit(blob, to: job.subjectID, finishing: job, contenttype: contenttype)
    }
}
