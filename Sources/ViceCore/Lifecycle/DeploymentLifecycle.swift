package import Foundation

/// The life of a deployment: the one place where its `status` and `statusMessage` change.
/// A value without I/O, applied by the registry inside the transaction that writes it back.
///
/// ```
///   (new) ──▶ queued ── beginDeploy ──▶ deploying ── deployed ──▶ deployed
///   any ── requestRemoval ──▶ removing ── (removal job) ──▶ record deleted
///   fail: failed (a later removal still takes out whatever was put there); cancel: cancelled
///   failed, cancelled ── requeue ──▶ queued (a deploy) or removing (a removal)
/// ```
package struct DeploymentLifecycle: Sendable, Hashable {
    package enum Operation: String, Sendable, Hashable {
        case deployment, removal
    }

    /// An event the status does not allow.
    package typealias Refused = LifecycleRefusal<DeploymentStatus>

    package private(set) var deployment: Deployment

    package init(_ deployment: Deployment) {
        self.deployment = deployment
    }

    /// The status of a deployment that was just asked for.
    package static let initialStatus = DeploymentStatus.queued

    var status: DeploymentStatus { deployment.status ?? Self.initialStatus }

    /// The deploy job starts putting the image into the environment. Refused once a removal was
    /// asked for, or when the deployment already ended.
    package mutating func beginDeploy(at now: Date = Date()) throws(Refused) {
        switch status {
        case .queued, .deploying:
            deployment.status = .deploying
            deployment.updatedAt = now
        case .removing, .deployed, .failed, .cancelled:
            throw Refused(event: "begin deploying", status: status)
        }
    }

    /// The image is in the environment under `reference`. The reference is recorded even when a
    /// removal was asked for meanwhile — the removal needs it — and the deployment stays removing.
    /// When another attempt of the same job recorded a reference first (a worker whose lease ran
    /// out while it still worked), that one stays and this one is returned: the caller removes
    /// it from the environment, so nothing is left there that no record names.
    @discardableResult
    package mutating func deployed(reference: String, at now: Date = Date()) -> String? {
        if let recorded = deployment.environmentReference, recorded != reference { return reference }
        deployment.environmentReference = reference
        if status != .removing {
            deployment.status = .deployed
            deployment.statusMessage = nil
        }
        deployment.updatedAt = now
        return nil
    }

    /// The caller deleted the deployment: it is removing until the removal job is done.
    package mutating func requestRemoval(at now: Date = Date()) {
        deployment.status = .removing
        deployment.statusMessage = nil
        deployment.updatedAt = now
    }

    /// An attempt failed and runs again later; the status stays, the reason is shown.
    package mutating func retry(reason: String, at now: Date = Date()) {
        deployment.statusMessage = reason
        deployment.updatedAt = now
    }

    /// A caller cancelled the deploy.
    package mutating func cancel(at now: Date = Date()) {
        deployment.status = .cancelled
        deployment.statusMessage = "deployment cancelled"
        deployment.updatedAt = now
    }

    /// A caller retries the failed or cancelled `operation`: a deploy queues again, a removal is
    /// removing again. Refused for a deploy once the deployment has a reference or is removing.
    package mutating func requeue(_ operation: Operation, at now: Date = Date()) throws(Refused) {
        switch (operation, status) {
        case (.deployment, .failed), (.deployment, .cancelled):
            guard deployment.environmentReference == nil else { throw Refused(event: "deploy again", status: status) }
            deployment.status = .queued
        case (.removal, .failed), (.removal, .removing):
            deployment.status = .removing
        default:
            throw Refused(event: operation == .deployment ? "deploy again" : "remove again", status: status)
        }
        deployment.statusMessage = nil
        deployment.updatedAt = now
    }

    /// The deploy or the removal failed for good.
    package mutating func fail(_ operation: Operation, reason: String, at now: Date = Date()) {
        deployment.status = .failed
        deployment.statusMessage = "\(operation.rawValue) failed: \(reason)"
        deployment.updatedAt = now
    }
}
