import Foundation

/// The registry performs the jobs its operations queue; each operation's file has its job
/// (`Registry+Import`, `Registry+Upload`, `Registry+Deploy`, `Registry+Remove`). This file only
/// dispatches, and records failures through the subjects' lifecycles.
extension Registry: JobHandler {
    package func perform(_ job: Job) async throws {
        switch job.kind {
        case .importImage: try await performImport(job)
        case .storeImage: try await performStore(job)
        case .deploy: try await performDeploy(job)
        case .removeDeployment: try await performRemoval(job)
        }
    }

    /// Persists what `JobLifecycle` decided: the rescheduled job or its end, and the note or the
    /// failure on its subject — in one transaction.
    package func recordFailure(of job: Job, decision: JobLifecycle.Decision) async throws {
        try await store.write { tx in
            switch decision {
            case .retry: try tx.updateJob(job)
            case .giveUp: try tx.deleteJob(id: job.id)
            }
            switch job.kind {
            case .importImage, .storeImage:
                guard let stored = try tx.image(id: job.subjectID) else { return }
                var lifecycle = ImageLifecycle(stored.image)
                let operation: ImageLifecycle.Operation = job.kind == .importImage ? .import : .upload
                switch decision {
                case .retry(_, let note): lifecycle.retry(operation, reason: note)
                case .giveUp(let reason): lifecycle.fail(operation, reason: reason)
                }
                try tx.updateImage(stored.with(lifecycle))
            case .deploy, .removeDeployment:
                guard let deployment = try tx.deployment(id: job.subjectID) else { return }
                var lifecycle = DeploymentLifecycle(deployment)
                switch decision {
                case .retry(_, let note): lifecycle.retry(reason: note)
                case .giveUp(let reason): lifecycle.fail(job.kind == .deploy ? .deployment : .removal, reason: reason)
                }
                try tx.updateDeployment(lifecycle.deployment)
            }
        }
    }

    /// Ends a job whose subject is gone: nothing to do.
    func dropJob(_ job: Job) async throws {
        try await store.write { try $0.deleteJob(id: job.id) }
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
