import Crypto
import Foundation
import Logging
import Testing
import ViceCore
@testable import ViceOpenStack
import ViceAdapterTesting
import ViceTestSupport
import ViceStorage

/// The OpenStack adapter against the real Keystone and Glance that script/test starts.
@Suite(.serialized, .tags(.openstack)) struct OpenStackAdapterTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    func fixture() async throws -> RegistryFixture {
        let fixture = try await RegistryFixture(maxJobAttempts: 3)   // Glance on sqlite may answer 500 under load: retried
        fixture.registry.catalog.register(OpenStackAdapter.self)
        return fixture
    }

    func adapter(_ environment: Environment) throws -> OpenStackAdapter {
        try OpenStackAdapter(environment: environment, context: AdapterContext(logger: Logger(label: "test")))
    }

    static func digests(of path: String) throws -> (sha256: String, md5: String, sha512: String, size: Int) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        func hex<D: Sequence>(_ d: D) -> String where D.Element == UInt8 { d.map { String(format: "%02x", $0) }.joined() }
        return (hex(SHA256.hash(data: data)), hex(Insecure.MD5.hash(data: data)), hex(SHA512.hash(data: data)), data.count)
    }

    @Test func healthAndListSeeTheProjectsImages() async throws {
        let file = try OpenStackTestbed.diskImage(format: "qcow2", in: directory)
        let id = try OpenStackTestbed.createImage(user: "admin", name: "listed-\(UUID())", diskFormat: "qcow2", file: file)
        defer { try? OpenStackTestbed.delete(id, user: "admin") }

        let admin = try adapter(try OpenStackTestbed.environment(user: "admin"))
        let health = await admin.health()
        #expect(health.status == .healthy, "\(health.message ?? "")")
        let images = try await admin.listImages()
        let listed = try #require(images.first { $0.reference == id })
        #expect(listed.contenttype == .diskQcow2)
        #expect(listed.size == Int64(try Self.digests(of: file).size))
        // Page by page along the `next` links: the same images.
        let second = try OpenStackTestbed.createImage(user: "admin", name: "listed-2", diskFormat: "qcow2", file: file)
        defer { try? OpenStackTestbed.delete(second, user: "admin") }
        let paged = try await admin.listImages(pageSize: 1)
        #expect(paged.count >= 2 && Set(paged.map(\.reference)).isSuperset(of: [id, second]))
        // (Other suites add and delete images meanwhile, which admin sees: compare no two listings.)
        #expect(Set(paged.map(\.reference)).count == paged.count, "a page repeated an image")

        let wrong = try adapter(try OpenStackTestbed.environment(user: "admin", password: "not-the-password"))
        let refused = await wrong.health()
        #expect(refused.status == .unhealthy)
        #expect(refused.message?.contains("refused the credentials") == true, "\(refused.message ?? "")")
        // The root URL of Keystone (no /v3) is discovered from its version document.
        let root = try OpenStackTestbed.identityURL().replacingOccurrences(of: "/v3", with: "")
        #expect(try await adapter(try OpenStackTestbed.environment(user: "admin", location: root)).health().status == .healthy)
    }

    @Test func aGlanceImageIsImportedWithItsBytesAndMetadata() async throws {
        let file = try OpenStackTestbed.diskImage(format: "vmdk", in: directory)
        let id = try OpenStackTestbed.createImage(user: "admin", name: "imported-\(UUID())", diskFormat: "vmdk", file: file)
        defer { try? OpenStackTestbed.delete(id, user: "admin") }
        let fixture = try await fixture()
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        let cloud = try await fixture.registry.createEnvironment(try OpenStackTestbed.environment(user: "admin"), owner: alice)
        fixture.startWorkers()

        let image = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: cloud.id), environmentReference: id), owner: alice)
        let stored = try await fixture.waitForImage(image.id!, owner: alice, status: .active)
        #expect(stored.status == .active, "\(stored.statusMessage ?? "")")
        let local = try Self.digests(of: file)
        #expect(stored.contenttype == .diskVmdk)
        #expect(stored.checksum == "sha256:" + local.sha256)
        #expect(stored.size == Int64(local.size))
        #expect(stored.title?.hasPrefix("imported-") == true)
        #expect(stored.specifics?["glance"]?["id"] == .string(id))
        #expect(stored.specifics?["glance"]?["checksum"] == .string(local.md5))
        let bytes = try await fixture.blobs.get(stored.checksum!).collect(upTo: 64 << 20)
        #expect(Data(bytes) == (try Data(contentsOf: URL(fileURLWithPath: file))))
        await fixture.stopWorkers()
    }

    @Test func aRegistryImageIsDeployedIntoTheDemoProjectAndRemoved() async throws {
        let file = try OpenStackTestbed.diskImage(format: "qcow2", megabytes: 6, in: directory)
        let fixture = try await fixture()
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        fixture.startWorkers()
        let image = try await fixture.uploadImage(file: file, title: "Deployed qcow2", contenttype: .diskQcow2, owner: alice)
        let demo = try await fixture.registry.createEnvironment(try OpenStackTestbed.environment(user: "demo"), owner: alice)

        let deployment = try await fixture.registry.createDeployment(Deployment(imageid: image.id, environmentId: demo.id), owner: alice)
        let deployed = try await fixture.waitForDeployment(deployment.id!, owner: alice, status: .deployed)
        #expect(deployed?.status == .deployed, "\(deployed?.statusMessage ?? "")")
        let glanceID = try #require(deployed?.environmentReference)
        let record = try #require(try OpenStackTestbed.image(glanceID, user: "demo"))
        let local = try Self.digests(of: file)
        #expect(record["status"] as? String == "active")
        #expect(record["name"] as? String == "Deployed qcow2")
        #expect(record["disk_format"] as? String == "qcow2")
        #expect(record["visibility"] as? String == "private")
        #expect(record["checksum"] as? String == local.md5)
        #expect(record["os_hash_value"] as? String == local.sha512)
        #expect(record["vice_image_id"] as? String == image.id)

        _ = try await fixture.registry.deleteDeployment(id: deployment.id!, owner: alice)
        _ = await eventually(timeout: .seconds(120)) { (try? await fixture.registry.deployment(id: deployment.id!, owner: alice)) == nil }
        #expect(try OpenStackTestbed.image(glanceID, user: "demo") == nil)
        await fixture.stopWorkers()
    }

    @Test(arguments: ["raw", "qcow2", "vmdk"])
    func anImageTravelsFromOneProjectThroughTheRegistryToAnother(format: String) async throws {
        let file = try OpenStackTestbed.diskImage(format: format, in: directory)
        let source = try OpenStackTestbed.createImage(user: "admin", name: "travel-\(format)", diskFormat: format, file: file)
        defer { try? OpenStackTestbed.delete(source, user: "admin") }
        let fixture = try await fixture()
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        let admin = try await fixture.registry.createEnvironment(try OpenStackTestbed.environment(user: "admin"), owner: alice)
        let demo = try await fixture.registry.createEnvironment(try OpenStackTestbed.environment(user: "demo"), owner: alice)
        fixture.startWorkers()

        let image = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: admin.id), environmentReference: source), owner: alice)
        let deployment = try await fixture.registry.createDeployment(Deployment(imageid: image.id, environmentId: demo.id), owner: alice)
        let deployed = try await fixture.waitForDeployment(deployment.id!, owner: alice, status: .deployed)
        #expect(deployed?.status == .deployed, "\(deployed?.statusMessage ?? "")")
        let copy = try #require(deployed?.environmentReference)
        defer { try? OpenStackTestbed.delete(copy, user: "demo") }

        let original = try #require(try OpenStackTestbed.image(source, user: "admin"))
        let arrived = try #require(try OpenStackTestbed.image(copy, user: "demo"))
        #expect(arrived["disk_format"] as? String == format)
        #expect(arrived["checksum"] as? String == original["checksum"] as? String)
        #expect(arrived["os_hash_value"] as? String == original["os_hash_value"] as? String)
        #expect(arrived["size"] as? Int == original["size"] as? Int)
        let downloaded = directory.file("arrived-\(format)")
        try OpenStackTestbed.download(copy, user: "demo", to: downloaded)
        #expect(try Self.digests(of: downloaded).sha256 == Self.digests(of: file).sha256)
        await fixture.stopWorkers()
    }

    @Test func badPasswordUnknownImageAndWrongRegionFailWithClearMessages() async throws {
        let fixture = try await fixture()
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        let wrongPassword = try await fixture.registry.createEnvironment(
            try OpenStackTestbed.environment(user: "admin", password: "wrong"), owner: alice)
        let wrongRegion = try await fixture.registry.createEnvironment(
            try OpenStackTestbed.environment(user: "admin", specifics: ["region": .string("Atlantis")]), owner: alice)
        let admin = try await fixture.registry.createEnvironment(try OpenStackTestbed.environment(user: "admin"), owner: alice)
        fixture.startWorkers()
        let unknown = UUID().uuidString.lowercased()
        let cases: [(Environment, String)] = [
            (wrongPassword, "refused the credentials of user 'admin'"),
            (wrongRegion, "no image endpoint for interface public, region Atlantis"),
            (admin, "unknown Glance image \(unknown)"),
        ]
        for (environment, message) in cases {
            let image = try await fixture.registry.createImage(
                Image(originEnvironment: Environment(id: environment.id), environmentReference: unknown), owner: alice)
            let failed = try await fixture.waitForImage(image.id!, owner: alice, status: .failed)
            #expect(failed.status == .failed)
            #expect(failed.statusMessage?.contains(message) == true, "\(failed.statusMessage ?? "")")
            #expect(failed.checksum == nil)
        }

        // Deploying with a bad password or into an unknown region leaves nothing in Glance either.
        let file = try OpenStackTestbed.diskImage(format: "raw", megabytes: 1, in: directory)
        let image = try await fixture.uploadImage(file: file, title: "nowhere", contenttype: .diskRaw, owner: alice)
        for (environment, message) in cases.prefix(2) {
            let deployment = try await fixture.registry.createDeployment(
                Deployment(imageid: image.id, environmentId: environment.id), owner: alice)
            let failed = try await fixture.waitForDeployment(deployment.id!, owner: alice, status: .failed)
            #expect(failed?.statusMessage?.contains(message) == true, "\(failed?.statusMessage ?? "")")
            #expect(try OpenStackTestbed.images(user: "admin", property: "vice_deployment_id", value: deployment.id!).isEmpty)
        }
        await fixture.stopWorkers()
    }

    @Test func glanceGoingAwayMidUploadFailsTheDeployAndLeavesNoImage() async throws {
        // 8 MiB disk; the proxy cuts any connection after 2 MiB from the client.
        let proxy = try await FaultProxy(mode: "cut-upload", after: 2 << 20)
        defer { proxy.stop() }
        let file = try OpenStackTestbed.diskImage(format: "raw", megabytes: 8, in: directory)
        let fixture = try await fixture()
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        fixture.startWorkers()
        let image = try await fixture.uploadImage(file: file, title: "cut", contenttype: .diskRaw, owner: alice)
        let demo = try await fixture.registry.createEnvironment(
            try OpenStackTestbed.environment(user: "demo", specifics: ["imageEndpoint": .string(proxy.url)]), owner: alice)

        let deployment = try await fixture.registry.createDeployment(Deployment(imageid: image.id, environmentId: demo.id), owner: alice)
        let failed = try await fixture.waitForDeployment(deployment.id!, owner: alice, status: .failed)
        #expect(failed?.status == .failed)
        #expect(failed?.statusMessage?.contains("Glance at \(proxy.url)/v2 cannot be reached (PUT") == true, "\(failed?.statusMessage ?? "")")
        #expect(try OpenStackTestbed.images(user: "demo", property: "vice_deployment_id", value: deployment.id!).isEmpty)
        await fixture.stopWorkers()
    }

    @Test func cancellingARunningImportKeepsNothingAndARetryFinishesIt() async throws {
        let proxy = try await FaultProxy(mode: "slow-download", after: 1 << 20)
        defer { proxy.stop() }
        let file = try OpenStackTestbed.diskImage(format: "raw", megabytes: 12, in: directory)
        let id = try OpenStackTestbed.createImage(user: "admin", name: "slow", diskFormat: "raw", file: file)
        defer { try? OpenStackTestbed.delete(id, user: "admin") }
        let fixture = try await fixture()
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        let cloud = try await fixture.registry.createEnvironment(
            try OpenStackTestbed.environment(user: "admin", specifics: ["imageEndpoint": .string(proxy.url)]), owner: alice)
        fixture.startWorkers()
        let image = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: cloud.id), environmentReference: id), owner: alice)
        let job = try #require(image.jobId)
        #expect(try await eventually(timeout: .seconds(60)) {
            (try await fixture.registry.job(id: job, owner: alice).bytesDone ?? 0) > 2 << 20
        })
        let downloading = try await fixture.registry.job(id: job, owner: alice)
        #expect(downloading.phase == "downloading" && downloading.bytesTotal == 12 << 20, "\(downloading)")
        _ = try await fixture.registry.cancelJob(id: job, owner: alice)
        #expect(try await eventually(timeout: .seconds(90)) { try await fixture.registry.job(id: job, owner: alice).state == "cancelled" })
        let cancelled = try await fixture.registry.image(id: image.id!, owner: alice)
        #expect(cancelled.status == .cancelled && cancelled.checksum == nil)
        let kept = FileManager.default.enumerator(atPath: fixture.directory.file("store"))?.allObjects
            .compactMap { $0 as? String }.filter { $0.hasSuffix(".part") || ($0.hasPrefix("blobs/sha256/") && $0.count > 20) } ?? []
        #expect(kept.isEmpty, "a cancelled import keeps no bytes: \(kept)")

        _ = try await fixture.registry.retryJob(id: job, owner: alice)
        let active = try await fixture.waitForImage(image.id!, owner: alice, status: .active)
        #expect(active.status == .active && active.size == 12 << 20, "\(active.statusMessage ?? "")")
        await fixture.stopWorkers()
    }

    @Test func cancellingARunningDeployLeavesNoImageInGlance() async throws {
        let file = try OpenStackTestbed.diskImage(format: "raw", megabytes: 32, in: directory)
        // The deploy's bytes leave slowly (256 KiB/s past the first MiB): it is still sending when cancelled.
        let fixture = try await RegistryFixture(maxJobAttempts: 3, wrapBlobs: { SlowBlobStore(base: $0, after: 1 << 20, bytesPerSecond: 256 << 10) })
        fixture.registry.catalog.register(OpenStackAdapter.self)
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        fixture.startWorkers()
        let image = try await fixture.uploadImage(file: file, title: "cancelled", contenttype: .diskRaw, owner: alice)
        let demo = try await fixture.registry.createEnvironment(
            try OpenStackTestbed.environment(user: "demo"), owner: alice)
        let deployment = try await fixture.registry.createDeployment(Deployment(imageid: image.id, environmentId: demo.id), owner: alice)
        let job = try #require(deployment.jobId)

        // Under way: bytes are going to Glance, which already has the image record.
        #expect(try await eventually(timeout: .seconds(60)) {
            (try await fixture.registry.job(id: job, owner: alice).bytesDone ?? 0) > 2 << 20
        })
        // Uploading: the Glance image was created first (it is not listed here: the test Glance has
        // one worker, busy with this upload until the cancel cuts it).
        let uploading = try await fixture.registry.job(id: job, owner: alice)
        #expect(uploading.phase == "uploading" && uploading.bytesTotal == 32 << 20, "\(uploading)")

        let asked = try await fixture.registry.cancelJob(id: job, owner: alice)
        #expect(asked.cancelRequested || asked.state == "cancelled")
        #expect(try await eventually(timeout: .seconds(90)) { try await fixture.registry.job(id: job, owner: alice).state == "cancelled" })
        let cancelled = try await fixture.registry.deployment(id: deployment.id!, owner: alice)
        #expect(cancelled.status == .cancelled && cancelled.environmentReference == nil)
        #expect(try await eventually(timeout: .seconds(90)) {
            try OpenStackTestbed.images(user: "demo", property: "vice_deployment_id", value: deployment.id!).isEmpty
        }, "the half-uploaded Glance image is gone")
        await fixture.stopWorkers()
    }

    @Test func aCorruptedDownloadFailsTheImportAndKeepsNothing() async throws {
        let proxy = try await FaultProxy(mode: "corrupt-download", after: 1 << 20)
        defer { proxy.stop() }
        let file = try OpenStackTestbed.diskImage(format: "raw", megabytes: 4, in: directory)
        let id = try OpenStackTestbed.createImage(user: "admin", name: "corrupted", diskFormat: "raw", file: file)
        defer { try? OpenStackTestbed.delete(id, user: "admin") }
        let fixture = try await fixture()
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        let cloud = try await fixture.registry.createEnvironment(
            try OpenStackTestbed.environment(user: "admin", specifics: ["imageEndpoint": .string(proxy.url)]), owner: alice)
        fixture.startWorkers()
        let image = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: cloud.id), environmentReference: id), owner: alice)
        let failed = try await fixture.waitForImage(image.id!, owner: alice, status: .failed)
        #expect(failed.status == .failed)
        #expect(failed.statusMessage?.contains("does not match Glance's checksum") == true, "\(failed.statusMessage ?? "")")
        #expect(failed.checksum == nil)
        // Neither a blob nor a partial file is left in the store.
        let stored = FileManager.default.enumerator(atPath: fixture.directory.file("store"))?.allObjects
            .compactMap { $0 as? String }.filter { $0.hasSuffix(".part") || ($0.hasPrefix("blobs/sha256/") && $0.count > 20) } ?? []
        #expect(stored.isEmpty, "\(stored)")
        await fixture.stopWorkers()
    }

    @Test func aDownloadThatBreaksMidWayResumesWhereItStopped() async throws {
        let proxy = try await FaultProxy(mode: "cut-download-once", after: 1_500_000)
        defer { proxy.stop() }
        let file = try OpenStackTestbed.diskImage(format: "raw", megabytes: 6, in: directory)
        let id = try OpenStackTestbed.createImage(user: "admin", name: "resumed", diskFormat: "raw", file: file)
        defer { try? OpenStackTestbed.delete(id, user: "admin") }
        // One attempt only: the resume happens inside it, not by retrying the job.
        let fixture = try await RegistryFixture(maxJobAttempts: 1)
        fixture.registry.catalog.register(OpenStackAdapter.self)
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        let cloud = try await fixture.registry.createEnvironment(
            try OpenStackTestbed.environment(user: "admin", specifics: ["imageEndpoint": .string(proxy.url)]), owner: alice)
        fixture.startWorkers()
        let image = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: cloud.id), environmentReference: id), owner: alice)
        let stored = try await fixture.waitForImage(image.id!, owner: alice, status: .active)
        #expect(stored.status == .active, "\(stored.statusMessage ?? "")")
        #expect(stored.checksum == "sha256:" + (try Self.digests(of: file).sha256))
        await fixture.stopWorkers()
    }

    @Test func aRevokedTokenIsRenewedOnce() async throws {
        // The URL spelled with a trailing slash: a cache entry of its own, which other suites using
        // the demo project cannot renew meanwhile.
        let adapter = try adapter(try OpenStackTestbed.environment(user: "demo", location: try OpenStackTestbed.identityURL() + "/"))
        // A token in the adapter's cache that Keystone then revokes, before Glance ever saw it
        // (Glance's auth middleware caches validations): Glance answers 401 to it.
        let cached = try await adapter.glance.keystone.token(renew: true)
        let admin = try OpenStackTestbed.token(user: "admin")
        let revoked = try OpenStackTestbed.curl(["-X", "DELETE", "-H", "X-Auth-Token: \(admin)", "-H", "X-Subject-Token: \(cached.value)",
                                                 try OpenStackTestbed.identityURL() + "/auth/tokens"])
        #expect(revoked.status == 204)
        #expect(try await adapter.glance.keystone.token().value == cached.value)
        let health = await adapter.health()
        #expect(health.status == .healthy, "\(health.message ?? "")")
        #expect(try await adapter.glance.keystone.token().value != cached.value)
    }

    @Test func theOpenStackAdapterPassesTheConformanceSuite() async throws {
        let file = try OpenStackTestbed.diskImage(format: "qcow2", in: directory)
        let id = try OpenStackTestbed.createImage(user: "demo", name: "conformance", diskFormat: "qcow2", file: file)
        defer { try? OpenStackTestbed.delete(id, user: "demo") }
        let failures = await AdapterConformance(.init(
            OpenStackAdapter.self, environment: try OpenStackTestbed.environment(user: "demo"),
            wrongCredentials: try OpenStackTestbed.environment(user: "demo", password: "not-demos-password"),
            importable: id)).run()
        #expect(failures.isEmpty, "\(failures)")
    }
}
