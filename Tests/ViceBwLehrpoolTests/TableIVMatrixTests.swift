import Foundation
import Testing
import ViceCore
import ViceBwLehrpool
import ViceOpenStack
import ViceTestSupport

/// Table IV of the ViCE paper: an image moves between OpenStack (the real Keystone + Glance of
/// script/test) and bwLehrpool (the test peer), in both directions and each to itself, through
/// the registry. Qcow2 from Glance is converted to VMDK for bwLehrpool; VMDK from bwLehrpool goes
/// to Glance as it is.
@Suite(.serialized, .tags(.bwlehrpool, .openstack)) struct TableIVMatrixTests {
    enum Backend: String, CustomStringConvertible, CaseIterable {
        case openstack, bwlehrpool
        var description: String { rawValue }
    }

    static let cases: [(Backend, Backend)] = [
        (.openstack, .openstack), (.openstack, .bwlehrpool), (.bwlehrpool, .openstack), (.bwlehrpool, .bwlehrpool),
    ]

    @Test(arguments: cases)
    func anImageMoves(from source: Backend, to target: Backend) async throws {
        let directory = try TemporaryDirectory()
        let peer = try await BwlpPeer()
        defer { peer.stop() }
        let fixture = try await RegistryFixture(maxJobAttempts: 3)   // Glance on sqlite may answer 500 under load: retried
        fixture.registry.catalog.register(OpenStackAdapter.self)
        fixture.registry.catalog.register(BwLehrpoolAdapter.self)
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        let cloud = try await fixture.registry.createEnvironment(try OpenStackTestbed.environment(user: "demo"), owner: alice)
        let satellite = try await fixture.registry.createEnvironment(peer.environment(), owner: alice)
        fixture.startWorkers()

        // The source holds a disk: qcow2 in Glance, VMDK on the satellite (as each usually does).
        let raw = try TestDisk.raw(megabytes: 20, in: directory)
        let disk: String
        let reference: String
        var cleanup: [() -> Void] = []
        switch source {
        case .openstack:
            disk = try TestDisk.converted(raw, to: "qcow2", in: directory)
            reference = try OpenStackTestbed.createImage(user: "demo", name: "matrix source", diskFormat: "qcow2", file: disk)
            cleanup.append { try? OpenStackTestbed.delete(reference, user: "demo") }
        case .bwlehrpool:
            disk = try TestDisk.converted(raw, to: "vmdk", in: directory)
            reference = try peer.seed(disk, name: "matrix source").0
        }
        defer { cleanup.forEach { $0() } }
        let origin = source == .openstack ? cloud : satellite
        let image = try await fixture.registry.createImage(
            Image(title: "Matrix \(source) to \(target)", originEnvironment: Environment(id: origin.id), environmentReference: reference),
            owner: alice)
        let stored = try await fixture.waitForImage(image.id!, owner: alice, status: .active)
        #expect(stored.status == .active, "\(stored.statusMessage ?? "")")
        #expect(stored.checksum == "sha256:" + (try TestDisk.sha256(disk)))

        let destination = target == .openstack ? cloud : satellite
        let deployment = try await fixture.registry.createDeployment(Deployment(imageid: image.id, environmentId: destination.id), owner: alice)
        let deployed = try await fixture.waitForDeployment(deployment.id!, owner: alice, status: .deployed)
        #expect(deployed?.status == .deployed, "\(deployed?.statusMessage ?? "")")
        let placed = try #require(deployed?.environmentReference)

        // What arrived holds the same guest data as the source disk.
        let arrived = directory.file("arrived")
        switch target {
        case .openstack:
            defer { try? OpenStackTestbed.delete(placed, user: "demo") }
            let record = try #require(try OpenStackTestbed.image(placed, user: "demo"))
            #expect(record["status"] as? String == "active")
            #expect(record["disk_format"] as? String == (source == .openstack ? "qcow2" : "vmdk"))
            try OpenStackTestbed.download(placed, user: "demo", to: arrived)
        case .bwlehrpool:
            let version = try #require(BwLehrpoolAdapter.split(placed).1)
            try FileManager.default.copyItem(atPath: peer.versionFile(version), toPath: arrived)
            #expect(Array((try Data(contentsOf: URL(fileURLWithPath: arrived))).prefix(4)) == Array("KDMV".utf8))
        }
        #expect(TestDisk.sameContent(arrived, raw))
        await fixture.stopWorkers()
    }
}
