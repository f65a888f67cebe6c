package import Foundation
import Logging

/// The registry performs the jobs its operations queue; each operation's file has its job
/// (`Registry+Import`, `Registry+Upload`, `Registry+Deploy`, `Registry+Remove`,
/// `Registry+Webhooks`). This file dispatches, tracks progress, and records failures and
/// cancels through the subjects' lifecycles.
extension Registry: JobHandler {
    package func perform(_ job: Job) async throws {
        // A delivery starting is no event: it would be delivered, and feed itself. Nor is a job
        // trying again after a deferral (it waits, and says why in its note): one that waits an
        // hour would otherwise tell of it every two seconds.
        if job.kind != .deliverWebhook && !job.wasDeferred { try await store.write { tx in
            var running = job
            running.state = .running
            _ = try tx.appendEvent(RegistryEvent(kind: .jobState, ownerID: job.ownerID, subjectID: job.id, data: JobInfo(running).eventData))
        } }
        let tracker = JobProgressTracker(interval: options.progressInterval) { [store] snapshot, final in
            try? await store.write { tx in
                // Only the worker holding the job reports on it.
                guard let current = try tx.job(id: job.id), current.leaseToken == job.leaseToken else { return }
                try tx.updateJobProgress(id: job.id, phase: snapshot.phase?.rawValue, bytesDone: snapshot.done,
                                         bytesTotal: snapshot.total, at: Date())
                guard !final, current.state == .running else { return }
                _ = try tx.appendEvent(RegistryEvent(kind: .jobProgress, ownerID: job.ownerID, subjectID: job.id,
                                                     data: JobInfo(current).eventData))
            }
        }
        let progress = tracker.reporter
        try await tracker.run {
            switch job.kind {
            case .importImage: try await self.performImport(job, progress: progress)
            case .storeImage: try await self.performStore(job, progress: progress)
            case .deploy: try await self.performDeploy(job, progress: progress)
            case .removeDeployment: try await self.performRemoval(job, progress: progress)
            case .deliverWebhook: try await self.performDelivery(job)
            }
        }
    }

    /// Persists what `JobLifecycle` decided: the rescheduled or failed job, and the note or the
    /// failure on its subject — in one transaction. A cancel asked for meanwhile wins over a retry.
    package func recordFailure(of job: Job, decision: JobLifecycle.Decision) async throws {
        let cancelled = try await store.write { tx -> Bool in
            let current = try self.held(job, in: tx)
            if case .retry = decision, current.cancelRequested {
                return true
            }
            try tx.updateJob(job)
            switch job.kind {
            case .importImage, .storeImage:
                guard let stored = try tx.image(id: job.subjectID) else { return false }
                var lifecycle = ImageLifecycle(stored.image)
                let operation: ImageLifecycle.Operation = job.kind == .importImage ? .import : .upload
                switch decision {
                case .retry(_, let note): lifecycle.retry(operation, reason: note)
                case .giveUp(let reason): lifecycle.fail(operation, reason: reason)
                }
                try tx.updateImage(stored.with(lifecycle))
            case .deploy, .removeDeployment:
                guard let deployment = try tx.deployment(id: job.subjectID) else { return false }
                var lifecycle = DeploymentLifecycle(deployment)
                switch decision {
                case .retry(_, let note): lifecycle.retry(reason: note)
                case .giveUp(let reason): lifecycle.fail(job.kind == .deploy ? .deployment : .removal, reason: reason)
                }
                try tx.updateDeployment(lifecycle.deployment)
            case .deliverWebhook:
                break
            }
            return false
        }
        if cancelled { try await recordCancellation(of: job) }
    }

    package func recordCancellation(of job: Job) async throws {
        guard let current = try await store.read({ try $0.job(id: job.id) }), !current.state.isFinished else { return }
        // Cleaned up before the job ends: until then it cannot be retried, so the cleanup never
        // removes what a retry makes.
        if job.kind == .deploy { await discardUnfinishedDeploy(job) }
        await discardUpload(of: job)
        try await store.write { tx in
            guard let current = try tx.job(id: job.id), !current.state.isFinished, current.leaseToken == job.leaseToken else { return }
            var lifecycle = JobLifecycle(current)
            lifecycle.cancel(reason: "cancelled by a caller")
            try tx.updateJob(lifecycle.job)
            try self.cancelSubject(of: job, in: tx)
        }
    }

    /// Marks a cancelled job's subject: the image or the deployment is cancelled.
    func cancelSubject(of job: Job, in tx: any MetadataWriter) throws {
        switch job.kind {
        case .importImage, .storeImage:
            guard let stored = try tx.image(id: job.subjectID) else { return }
            var lifecycle = ImageLifecycle(stored.image)
            lifecycle.cancel(job.kind == .importImage ? .import : .upload)
            try tx.updateImage(stored.with(lifecycle))
        case .deploy:
            guard let deployment = try tx.deployment(id: job.subjectID), deployment.status != .removing else { return }
            var lifecycle = DeploymentLifecycle(deployment)
            lifecycle.cancel()
            try tx.updateDeployment(lifecycle.deployment)
        case .removeDeployment, .deliverWebhook:
            break
        }
    }

    /// After a cancelled store job: the staged upload it would have committed goes.
    func discardUpload(of job: Job) async {
        guard job.kind == .storeImage, let parameters = try? job.parameters(StoreParameters.self) else { return }
        await blobs.discardIngest(parameters.ingest)
    }

    /// After a cancelled deploy: the target's adapter removes whatever the stopped attempt made
    /// (a half-created Glance image, an unfinished satellite upload), outside the cancelled task.
    private func discardUnfinishedDeploy(_ job: Job) async {
        let registry = self
        await Task.detached {
            do {
                guard let deployment = try await registry.store.read({ try $0.deployment(id: job.subjectID) }),
                      let target = try await registry.environmentWithCredentials(id: deployment.environmentId ?? "") else { return }
                let adapter = try await registry.adapter(for: target, ownerID: deployment.userid)
                try await adapter.discardUnfinishedDeploy(deploymentID: job.subjectID)
            } catch {
                registry.logger.warning("cleaning up after the cancelled deploy \(job.subjectID) failed: \(error)")
            }
        }.value
    }

    /// Ends a job whose subject is gone: nothing to do.
    func dropJob(_ job: Job) async throws {
        try await store.write { tx in
            let current = try self.held(job, in: tx)
            var lifecycle = JobLifecycle(current)
            lifecycle.cancel(reason: "its \(job.subjectNoun) is gone")
            try tx.updateJob(lifecycle.job)
        }
    }

    /// The job as stored, if the worker that claimed `job` still holds it; `StaleLease` when
    /// another claim took it over (the write it was for must not happen).
    func held(_ job: Job, in tx: any MetadataWriter) throws -> Job {
        guard let current = try tx.job(id: job.id), current.leaseToken == job.leaseToken, current.state == .running else {
            throw StaleLease(jobID: job.id, token: job.leaseToken)
        }
        return current
    }

    /// Ends `job` as done in `tx` (the transaction that records what it did), unless another
    /// worker took it over: then `StaleLease` rolls the whole transaction back.
    func succeed(_ job: Job, in tx: any MetadataWriter) throws {
        let current = try held(job, in: tx)
        var lifecycle = JobLifecycle(current)
        lifecycle.succeed()
        try tx.updateJob(lifecycle.job)
        // A job that succeeded moved all its bytes, whether or not its last progress report was
        // saved before this (it is saved after the work, and a caller may read in between).
        if let total = current.bytesTotal, current.bytesDone != total {
            try tx.updateJobProgress(id: current.id, phase: current.phase, bytesDone: total, bytesTotal: total,
                                     at: lifecycle.job.updatedAt ?? Date())
        }
    }

    /// Queues `job` in `tx` for its subject's owner; answers its id, which the subject shows as `jobId`.
    func enqueue(_ job: Job, ownerID: String?, in tx: any MetadataWriter) throws -> String {
        var job = job
        job.ownerID = ownerID
        try tx.insertJob(job)
        return job.id
    }

    /// At start-up and now and then: forgets jobs that ended and events older than their retention.
    package func pruneHistory(now: Date = Date()) async throws {
        let (jobs, events) = (options.jobRetention, options.eventRetention)
        _ = try await store.write { tx in
            (try tx.pruneJobs(finishedBefore: now.addingTimeInterval(-jobs)), try tx.pruneEvents(before: now.addingTimeInterval(-events)))
        }
    }
}

extension StoredImage {
    /// The same record with the image a lifecycle event left.
    func with(_ lifecycle: ImageLifecycle) -> StoredImage {
        var copy = self
        copy.image = lifecycle.image
        return copy
    }
}
