import Foundation

/// Jobs as callers see them: listed, read, cancelled and retried. A user sees the jobs of their
/// own images, deployments and webhooks; an admin sees all.
extension Registry {
    /// `GET /v1/jobs`.
    package func jobs(_ query: JobQuery, owner: UserRecord) async throws -> Page<JobInfo> {
        try Validate.pageLimit(query.page)
        var query = query
        query.ownerID = owner.listedOwner
        let rows = try await store.read { [query] in try $0.jobs(query) }
        return rows.paged(query.page, id: \.id).map(JobInfo.init)
    }

    /// `GET /v1/jobs/{id}`.
    package func job(id: String, owner: UserRecord) async throws -> JobInfo {
        JobInfo(try await visibleJob(id: id, owner: owner))
    }

    /// `DELETE /v1/jobs/{id}`: a queued job is cancelled at once; a running one is stopped by
    /// its worker (here at once, on another node at its next lease renewal), which then removes
    /// what the work left half-made. Answers the job as it is now. Removals cannot be cancelled:
    /// stopped half-way they would leave a deployment nobody can tell the state of.
    package func cancelJob(id: String, owner: UserRecord) async throws -> JobInfo {
        let job = try await visibleJob(id: id, owner: owner)
        guard job.kind != .removeDeployment else {
            throw ViceError.conflict("a removal cannot be cancelled; it would leave the deployment half-removed")
        }
        let (updated, outcome) = try await store.write { tx -> (Job, JobLifecycle.CancelOutcome) in
            guard let current = try tx.job(id: id) else { throw ViceError.notFound("job \(id) not found") }
            var lifecycle = JobLifecycle(current)
            let outcome: JobLifecycle.CancelOutcome
            do {
                outcome = try lifecycle.requestCancel()
            } catch {
                throw ViceError.conflict("job \(id) is \(JobInfo(current).state) and cannot be cancelled")
            }
            try tx.updateJob(lifecycle.job)
            if outcome == .cancelled { try self.cancelSubject(of: current, in: tx) }
            return (lifecycle.job, outcome)
        }
        if outcome == .requested { cancellations.cancel(jobID: id) }
        if outcome == .cancelled { await discardUpload(of: updated) }
        return JobInfo(try await store.read { try $0.job(id: id) } ?? updated)
    }

    /// `POST /v1/jobs/{id}/retry`: runs a failed or cancelled job again, from its first attempt.
    /// Refused while another job works on the same subject, when the subject is gone, and for
    /// uploads, whose bytes were discarded when they failed.
    package func retryJob(id: String, owner: UserRecord) async throws -> JobInfo {
        let job = try await visibleJob(id: id, owner: owner)
        guard job.kind != .storeImage else {
            throw ViceError.conflict("the bytes of a failed upload are discarded; upload the file again")
        }
        let retried = try await store.write { tx -> Job in
            guard let current = try tx.job(id: id) else { throw ViceError.notFound("job \(id) not found") }
            var lifecycle = JobLifecycle(current)
            do {
                try lifecycle.requeue()
            } catch {
                throw ViceError.conflict("job \(id) is \(JobInfo(current).state); only failed or cancelled jobs are retried")
            }
            if let other = try tx.jobs(subjectID: current.subjectID).first(where: { $0.id != id && $0.kind != .deliverWebhook }) {
                throw ViceError.conflict("job \(other.id) works on the same \(current.subjectNoun) now")
            }
            try self.requeueSubject(of: current, jobID: id, in: tx)
            try tx.updateJob(lifecycle.job)
            try tx.updateJobProgress(id: id, phase: nil, bytesDone: nil, bytesTotal: nil, at: Date())
            return lifecycle.job
        }
        notify(retried.queue)
        return JobInfo(retried)
    }

    /// The subject of a job being retried goes back to waiting for it.
    private func requeueSubject(of job: Job, jobID: String, in tx: any MetadataWriter) throws {
        switch job.kind {
        case .importImage:
            guard let stored = try tx.image(id: job.subjectID) else { throw ViceError.conflict("the job's image was deleted") }
            var lifecycle = ImageLifecycle(stored.image)
            lifecycle.queueImport()
            var image = stored.with(lifecycle)
            image.image.jobId = jobID
            try tx.updateImage(image)
        case .deploy, .removeDeployment:
            guard let deployment = try tx.deployment(id: job.subjectID) else { throw ViceError.conflict("the job's deployment was removed") }
            var lifecycle = DeploymentLifecycle(deployment)
            do {
                try lifecycle.requeue(job.kind == .deploy ? .deployment : .removal)
            } catch {
                throw ViceError.conflict("\(error)")
            }
            var updated = lifecycle.deployment
            updated.jobId = jobID
            try tx.updateDeployment(updated)
        case .deliverWebhook:
            guard try tx.webhook(id: job.subjectID) != nil else { throw ViceError.conflict("the job's webhook was deleted") }
        case .storeImage:
            break
        }
    }

    private func visibleJob(id: String, owner: UserRecord) async throws -> Job {
        guard let job = try await store.read({ try $0.job(id: id) }), owner.mayManage(job.ownerID) else {
            throw ViceError.notFound("job \(id) not found")
        }
        return job
    }
}

extension Page {
    func map<T: Sendable>(_ transform: (Item) -> T) -> Page<T> {
        Page<T>(items: items.map(transform), nextMarker: nextMarker)
    }
}
