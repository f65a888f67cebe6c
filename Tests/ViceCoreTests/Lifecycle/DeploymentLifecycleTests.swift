import Foundation
import Testing
import ViceCore

/// Every event of a deployment's lifecycle from every status, and the ones it refuses.
@Suite struct DeploymentLifecycleTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func deployment(_ status: DeploymentStatus) -> Deployment {
        Deployment(id: "d", imageid: "i", environmentId: "e", status: status)
    }

    @Test func aNewDeploymentIsQueued() {
        #expect(DeploymentLifecycle.initialStatus == .queued)
    }

    @Test(arguments: [DeploymentStatus.queued, .deploying])
    func beginningMakesItDeploying(_ status: DeploymentStatus) throws {
        var lifecycle = DeploymentLifecycle(Self.deployment(status))
        try lifecycle.beginDeploy(at: Self.now)
        #expect(lifecycle.deployment.status == .deploying)
        #expect(lifecycle.deployment.updatedAt == Self.now)
    }

    @Test(arguments: [DeploymentStatus.removing, .deployed, .failed])
    func beginningIsRefusedOnceRemovingOrEnded(_ status: DeploymentStatus) {
        var lifecycle = DeploymentLifecycle(Self.deployment(status))
        #expect(throws: DeploymentLifecycle.Refused(event: "begin deploying", status: status)) {
            try lifecycle.beginDeploy(at: Self.now)
        }
        #expect(lifecycle.deployment.status == status)
    }

    @Test func deployedRecordsTheReference() {
        var lifecycle = DeploymentLifecycle(Self.deployment(.deploying))
        lifecycle.retry(reason: "attempt 1 failed")
        lifecycle.deployed(reference: "ref-1", at: Self.now)
        #expect(lifecycle.deployment.status == .deployed)
        #expect(lifecycle.deployment.environmentReference == "ref-1")
        #expect(lifecycle.deployment.statusMessage == nil)
    }

    @Test func aDeploymentRemovedMeanwhileKeepsRemovingButGetsItsReference() {
        var lifecycle = DeploymentLifecycle(Self.deployment(.removing))
        lifecycle.deployed(reference: "ref-2", at: Self.now)
        #expect(lifecycle.deployment.status == .removing)
        #expect(lifecycle.deployment.environmentReference == "ref-2", "the removal needs it")
    }

    @Test func aSecondAttemptsReferenceIsSurplusAndTheFirstStays() {
        var lifecycle = DeploymentLifecycle(Self.deployment(.deploying))
        #expect(lifecycle.deployed(reference: "first") == nil)
        #expect(lifecycle.deployed(reference: "first") == nil, "the same answer again is no surplus")
        #expect(lifecycle.deployed(reference: "second") == "second")
        #expect(lifecycle.deployment.environmentReference == "first")
        #expect(lifecycle.deployment.status == .deployed)
    }

    @Test(arguments: DeploymentStatus.allCases)
    func aRemovalCanBeAskedForInAnyStatus(_ status: DeploymentStatus) {
        var lifecycle = DeploymentLifecycle(Self.deployment(status))
        lifecycle.requestRemoval(at: Self.now)
        #expect(lifecycle.deployment.status == .removing)
        #expect(lifecycle.deployment.statusMessage == nil)
    }

    @Test func aRetryKeepsTheStatusAndShowsTheReason() {
        var lifecycle = DeploymentLifecycle(Self.deployment(.deploying))
        lifecycle.retry(reason: "engine busy", at: Self.now)
        #expect(lifecycle.deployment.status == .deploying)
        #expect(lifecycle.deployment.statusMessage == "engine busy")
    }

    @Test func failingSaysWhatFailed() {
        var deploying = DeploymentLifecycle(Self.deployment(.deploying))
        deploying.fail(.deployment, reason: "no space", at: Self.now)
        #expect(deploying.deployment.status == .failed)
        #expect(deploying.deployment.statusMessage == "deployment failed: no space")

        var removing = DeploymentLifecycle(Self.deployment(.removing))
        removing.fail(.removal, reason: "gone away")
        #expect(removing.deployment.statusMessage == "removal failed: gone away")
    }
}
