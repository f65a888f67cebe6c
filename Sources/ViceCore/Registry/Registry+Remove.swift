import Foundation
import Logging

/// Taking things away: images (their bytes freed when no other image holds them), deployments
/// (a removal job takes the image out of its environment), and blobs nothing holds.
extension Registry {
    /// `DELETE /image/{id}`: removes the record and its queued jobs, and frees the bytes when no
    /// other image holds the same content.
    package func deleteImage(id: String, owner: UserRecord) async throws {
        let (checksum, uploads) = try await store.write { tx -> (String?, [IngestID]) in
            guard let stored = try tx.image(id: id), owner.mayManage(stored.userid) else {
                throw ViceError.notFound("image \(id) not found")
            }
            var uploads: [IngestID] = []
            for job in try tx.jobs(subjectID: id) where job.state == .pending {
                if job.kind == .storeImage {
                    do {
                        uploads.append(try job.parameters(StoreParameters.self).ingest)
                    } catch {
                        self.logger.warning("a store job of image \(id) has unreadable parameters: \(error)")
                    }
                }
                var lifecycle = JobLifecycle(job)
                lifecycle.cancel(reason: "its image was deleted")
                try tx.updateJob(lifecycle.job)
            }
            try tx.deleteImage(id: id)
            return (stored.image.checksum, uploads)
        }
        // Uploads still waiting for their store job go with the image.
        for upload in uploads { await blobs.discardIngest(upload) }
        if let checksum { try await releaseBlobIfUnused(checksum) }
    }

    /// `DELETE /deployment/{id}`: the deployment turns `removing` and a job takes the image out of
    /// its environment; the record goes when that is done. A deploy still queued is cancelled.
    package func deleteDeployment(id: String, owner: UserRecord) async throws -> Deployment {
        let maxAttempts = options.maxJobAttempts
        let deployment = try await store.write { tx -> Deployment in
            guard let deployment = try tx.deployment(id: id), owner.mayManage(deployment.userid) else {
                throw ViceError.notFound("deployment \(id) not found")
            }
            let jobs = try tx.jobs(subjectID: id)
            for job in jobs where job.kind == .deploy && job.state == .pending {
                var lifecycle = JobLifecycle(job)
                lifecycle.cancel(reason: "its deployment was deleted before it ran")
                try tx.updateJob(lifecycle.job)
            }
            let removal = try jobs.first(where: { $0.kind == .removeDeployment })?.id
                ?? self.enqueue(Job(kind: .removeDeployment, subjectID: id, maxAttempts: maxAttempts), ownerID: deployment.userid, in: tx)
            var lifecycle = DeploymentLifecycle(deployment)
            lifecycle.requestRemoval()
            var removing = lifecycle.deployment
            removing.jobId = removal
            try tx.updateDeployment(removing)
            return removing
        }
        notify(.export)
        return deployment
    }

    // MARK: the removal job

    func performRemoval(_ job: Job, progress: ProgressReporter) async throws {
        guard let deployment = try await store.read({ try $0.deployment(id: job.subjectID) }) else { return try await dropJob(job) }
        let jobs = try await store.read { try $0.jobs(subjectID: job.subjectID) }
        if jobs.contains(where: { $0.kind == .deploy && $0.state == .running }) {
            throw JobDeferred(delay: 2, reason: "waiting for the running deployment to finish before removing it")
        }
        if let reference = deployment.environmentReference,
           let target = try await environmentWithCredentials(id: deployment.environmentId ?? "") {
            // Removal only deletes what this registry put there, so it runs even for an owner who
            // lost access to the environment since; the egress policy still applies.
            progress.phase(.removing)
            let adapter = try await adapter(for: target, ownerID: deployment.userid, progress: progress)
            try await adapter.remove(reference: reference)
        }
        let store = self.store
        try await recording { try await store.write { tx in
            for other in try tx.jobs(subjectID: job.subjectID) where other.kind == .deploy {
                var lifecycle = JobLifecycle(other)
                lifecycle.cancel(reason: "its deployment was removed")
                try tx.updateJob(lifecycle.job)
            }
            try tx.deleteDeployment(id: job.subjectID)
            try self.succeed(job, in: tx)
        } }
    }

    // MARK: blobs

    /// Frees a blob when no image holds it; an ingest committing the same bytes meanwhile keeps it.
    /// Returns whether the blob went.
    @discardableResult
    func releaseBlobIfUnused(_ checksum: String) async throws -> Bool {
        let store = self.store
        return try await blobs.delete(checksum) {
            try await store.read { try $0.imageCount(checksum: checksum) } == 0
        }
    }

    /// At start-up: frees blobs no image and no store job holds (a converted copy or an import
    /// cut off by a crash between committing and recording). Returns how many went.
    @discardableResult
    package func removeUnreferencedBlobs() async throws -> Int {
        let awaited = Set(try await queuedUploads().map(\.blob.digest))
        var removed = 0
        for digest in try await blobs.digests() where !awaited.contains(digest) {
            if try await releaseBlobIfUnused(digest) { removed += 1 }
        }
        return removed
    }
}
