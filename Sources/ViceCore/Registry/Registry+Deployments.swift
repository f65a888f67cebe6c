import Foundation

extension Registry {
    /// `POST /deploy`: checks that the image and the environment are the caller's and that the
    /// environment's adapter can take the image, then queues an export job. Anything unusable is
    /// refused (405) before a job exists.
    public func createDeployment(_ input: Deployment, owner: UserRecord) async throws -> Deployment {
        let imageID = try Validate.id(input.imageid, field: "imageid")
        let environmentID = try Validate.id(input.environmentId, field: "environmentId")
        try Validate.title(input.title)
        let catalog = self.catalog
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
                if image.image.status == .failed {
                    throw ViceError.invalidInput("image \(imageID) failed and has no content to deploy: \(image.image.statusMessage ?? "")")
                }
                let descriptor = try catalog.descriptor(for: target)
                if let contenttype = image.image.contenttype, self.deployableType(of: contenttype, for: descriptor) == nil {
                    let supported = descriptor.capabilities.deploys.map(\.rawValue).sorted().joined(separator: ", ")
                    throw ViceError.invalidInput(
                        "the \(descriptor.kind) adapter cannot deploy \(contenttype.rawValue) images (it deploys: \(supported))")
                }
                let deployment = Deployment(
                    id: id, title: input.title ?? image.image.title, userid: owner.id, imageid: imageID,
                    environmentId: environmentID, status: .queued, createdAt: now, updatedAt: now)
                try tx.insertDeployment(deployment)
                try tx.insertJob(Job(kind: .deploy, subjectID: id, maxAttempts: maxAttempts))
                return deployment
            }
        }
        notify(.export)
        return deployment
    }

    public func deployment(id: String, owner: UserRecord) async throws -> Deployment {
        guard let deployment = try await store.read({ try $0.deployment(id: id) }), owner.mayManage(deployment.userid) else {
            throw ViceError.notFound("deployment \(id) not found")
        }
        return deployment
    }

    public func deployments(owner: UserRecord, page: PageRequest) async throws -> Page<Deployment> {
        try Validate.pageLimit(page)
        let rows = try await store.read { try $0.deployments(owner: owner.listedOwner, page: page) }
        return rows.paged(page, id: { $0.id ?? "" })
    }

    /// `DELETE /deployment/{id}`: the deployment turns `removing` and a job takes the image out of
    /// its environment; the record goes when that is done. A deploy still queued is cancelled.
    public func deleteDeployment(id: String, owner: UserRecord) async throws -> Deployment {
        let maxAttempts = options.maxJobAttempts
        let deployment = try await store.write { tx -> Deployment in
            guard var deployment = try tx.deployment(id: id), owner.mayManage(deployment.userid) else {
                throw ViceError.notFound("deployment \(id) not found")
            }
            let jobs = try tx.jobs(subjectID: id)
            for job in jobs where job.kind == .deploy && job.state == .pending {
                try tx.deleteJob(id: job.id)
            }
            if !jobs.contains(where: { $0.kind == .removeDeployment }) {
                try tx.insertJob(Job(kind: .removeDeployment, subjectID: id, maxAttempts: maxAttempts))
            }
            deployment.status = .removing
            deployment.statusMessage = nil
            deployment.updatedAt = Date()
            try tx.updateDeployment(deployment)
            return deployment
        }
        notify(.export)
        return deployment
    }
}
