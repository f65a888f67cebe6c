import Foundation
import Logging
import Testing
import ViceAdapterTesting
import ViceConversion
import ViceCore
@testable import ViceBwLehrpool
import ViceTestSupport

/// The bwLehrpool adapter against the independent test peer (Python, Apache Thrift, python3-lz4).
@Suite(.serialized, .tags(.bwlehrpool)) struct BwLehrpoolAdapterTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    func fixture() async throws -> RegistryFixture {
        let fixture = try await RegistryFixture(maxJobAttempts: 2)
        fixture.registry.catalog.register(BwLehrpoolAdapter.self)
        return fixture
    }

    /// Uploads `file` into a new registry image and deploys it to the peer; waits for `status`.
    func deploy(_ file: String, title: String, as contenttype: ContentType, to peer: BwlpPeer, in fixture: RegistryFixture,
                until status: DeploymentStatus) async throws -> (Image, Deployment?, UserRecord) {
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        fixture.startWorkers()
        let image = try await fixture.uploadImage(file: file, title: title, contenttype: contenttype, owner: alice)
        let satellite = try await fixture.registry.createEnvironment(peer.environment(), owner: alice)
        let deployment = try await fixture.registry.createDeployment(Deployment(imageid: image.id, environmentId: satellite.id), owner: alice)
        return (image, try await fixture.waitForDeployment(deployment.id!, owner: alice, status: status), alice)
    }

    func adapter(_ environment: Environment) throws -> BwLehrpoolAdapter {
        try BwLehrpoolAdapter(environment: environment, context: AdapterContext(logger: Logger(label: "test"),
                                                                               temporaryDirectory: directory.url))
    }

    @Test func healthListAndErrorsOfTheSessionLayer() async throws {
        let peer = try await BwlpPeer()
        defer { peer.stop() }
        let file = try TestDisk.raw(megabytes: 1, in: directory)
        let (base, _) = try peer.seed(file, name: "Listed image")
        let good = try adapter(peer.environment())
        #expect(await good.health().status == .healthy)
        let listed = try await good.listImages()
        #expect(listed.map(\.reference) == [base] && listed.first?.title == "Listed image" && listed.first?.size == 1 << 20)

        let wrong = try adapter(peer.environment(password: "not-it"))
        let health = await wrong.health()
        #expect(health.status == .unhealthy)
        #expect(health.message?.contains("INVALID_CREDENTIALS") == true, "\(health.message ?? "")")
        let refused = await #expect(throws: AdapterError.self) { try await wrong.importImage(reference: base) }
        #expect(refused?.code == .authenticationFailed && refused?.isTransient == false)

        // A token the satellite does not know: NOT_AUTHENTICATED, as the real satellite answers.
        let client = try await ThriftClient.connect(host: "127.0.0.1", port: peer.ports["satellite"]!, security: .plain)
        let notAuthenticated = await #expect(throws: ThriftError.self) {
            try await SatelliteServer(client: client, token: "forged-token").getImageDetails(base)
        }
        #expect("\(notAuthenticated!)".contains("NOT_AUTHENTICATED"))
        let unknownMethod = await #expect(throws: ThriftError.self) { try await client.call("noSuchMethod", ThriftStruct()) }
        if case .application(let type, _)? = unknownMethod { #expect(type == 1) } else { Issue.record("\(String(describing: unknownMethod))") }
        await client.close()

        let missing = await #expect(throws: AdapterError.self) { try await good.importImage(reference: UUID().uuidString) }
        #expect(missing?.code == .notFound)
        let down = try adapter(Environment(credentials: Credentials(location: "127.0.0.1:1", username: "u", password: "p",
                                                                    specifics: .object(["plain": .bool(true), "masterHost": .string("127.0.0.1:1")])),
                                           managementlayer: ManagementLayer(software: "bwlehrpool")))
        #expect(await down.health().message?.contains("cannot connect to 127.0.0.1:1") == true)
    }

    @Test func anImageIsImportedBlockByBlockWithItsHashesAndMachineDescription() async throws {
        let peer = try await BwlpPeer()
        defer { peer.stop() }
        let raw = try TestDisk.raw(megabytes: 40, in: directory)   // three 16 MiB blocks, the last short
        let (base, version) = try peer.seed(raw, name: "Lab VM", machineDescription: "displayName = \"Lab VM\"\n")
        // The middle block arrives corrupted once: it is fetched again, and the import succeeds.
        try peer.faults(#"{"corruptDownload": {"1": 1}}"#)
        let fixture = try await fixture()
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        let satellite = try await fixture.registry.createEnvironment(peer.environment(), owner: alice)
        fixture.startWorkers()
        let image = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: satellite.id), environmentReference: base), owner: alice)
        let stored = try await fixture.waitForImage(image.id!, owner: alice, status: .active)
        #expect(stored.status == .active, "\(stored.statusMessage ?? "")")
        #expect(stored.checksum == "sha256:" + (try TestDisk.sha256(raw)))
        #expect(stored.contenttype == .diskRaw && stored.title == "Lab VM")
        #expect(stored.specifics?["imageVersionId"] == .string(version))
        #expect(stored.specifics?["machineDescription"] == .string(Data("displayName = \"Lab VM\"\n".utf8).base64EncodedString()))
        #expect(stored.specifics?["virtId"] == .string("vmware"))
        let faults = try String(contentsOfFile: peer.directory.file("faults.json"), encoding: .utf8)
        #expect(faults.contains(#""1": 0"#), "the planned corruption was used: \(faults)")
        await fixture.stopWorkers()
    }

    @Test func persistentCorruptionAndAPeerThatDiesFailTheImportAndKeepNothing() async throws {
        let peer = try await BwlpPeer()
        defer { peer.stop() }
        let raw = try TestDisk.raw(megabytes: 20, in: directory)
        let (base, _) = try peer.seed(raw, name: "Broken")
        let fixture = try await fixture()
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        let satellite = try await fixture.registry.createEnvironment(peer.environment(), owner: alice)
        fixture.startWorkers()

        try peer.faults(#"{"corruptDownload": {"0": 100}}"#)
        let corrupted = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: satellite.id), environmentReference: base), owner: alice)
        let failed = try await fixture.waitForImage(corrupted.id!, owner: alice, status: .failed)
        try #require(failed.status == .failed, "\(failed.statusMessage ?? "")")
        #expect(failed.statusMessage?.contains("block 0 (bytes 0-16777216) failed its SHA-1 check 3 times") == true, "\(failed.statusMessage ?? "")")
        #expect(failed.checksum == nil)

        try peer.faults(#"{"dieAfterBytes": 5000000}"#)
        let cut = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: satellite.id), environmentReference: base), owner: alice)
        let died = try await fixture.waitForImage(cut.id!, owner: alice, status: .failed)
        #expect(died.status == .failed)
        #expect(died.statusMessage?.contains("the peer closed the connection") == true, "\(died.statusMessage ?? "")")
        let kept = FileManager.default.enumerator(atPath: fixture.directory.file("store"))?.allObjects
            .compactMap { $0 as? String }.filter { $0.hasSuffix(".part") || ($0.hasPrefix("blobs/sha256/") && $0.count > 20) } ?? []
        #expect(kept.isEmpty, "\(kept)")
        await fixture.stopWorkers()
    }

    @Test func aVMDKIsDeployedRangeByRangeAndTheSatelliteStoresTheSameBytes() async throws {
        let peer = try await BwlpPeer()
        defer { peer.stop() }
        let vmdk = try TestDisk.converted(try TestDisk.raw(megabytes: 48, in: directory), to: "vmdk", in: directory)
        // The satellite asks for blocks in reverse order and finds block 0 corrupted twice: it
        // asks again, and the adapter serves the range again.
        try peer.faults(#"{"corruptUpload": {"0": 2}}"#)
        let fixture = try await fixture()
        let (_, deployed, alice) = try await deploy(vmdk, title: "Course VM", as: .diskVmdk, to: peer, in: fixture, until: .deployed)
        #expect(deployed?.status == .deployed, "\(deployed?.statusMessage ?? "")")
        let reference = try #require(deployed?.environmentReference)
        let (base, version) = BwLehrpoolAdapter.split(reference)
        let record = try #require(peer.image(base))
        #expect(record["imageName"] as? String == "Course VM" && record["virtId"] as? String == "vmware")
        #expect(record["latestVersionId"] as? String == version)
        #expect(try TestDisk.sha256(peer.versionFile(version!)) == TestDisk.sha256(vmdk))
        let machine = ((record["versions"] as? [[String: Any]])?.first?["machine"] as? String) ?? ""
        #expect(String(decoding: [UInt8](hex: machine) ?? [], as: UTF8.self).contains("scsi0:0.fileName"))

        _ = try await fixture.registry.deleteDeployment(id: deployed!.id!, owner: alice)
        #expect(await eventually(timeout: .seconds(120)) { peer.image(base) == nil })
        await fixture.stopWorkers()
    }

    @Test func anUploadTheSatelliteKeepsFindingCorruptIsCancelledAndLeavesNoImage() async throws {
        let peer = try await BwlpPeer()
        defer { peer.stop() }
        let vmdk = try TestDisk.converted(try TestDisk.raw(megabytes: 4, in: directory), to: "vmdk", in: directory)
        try peer.faults(#"{"corruptUpload": {"0": 100}}"#)
        let fixture = try await fixture()
        let (_, failed, _) = try await deploy(vmdk, title: "Never arrives", as: .diskVmdk, to: peer, in: fixture, until: .failed)
        #expect(failed?.statusMessage?.contains("Uploaded file is corrupted") == true, "\(failed?.statusMessage ?? "")")
        #expect(peer.images.isEmpty, "\(peer.images)")
        await fixture.stopWorkers()
    }

    @Test func aQcow2ImageIsConvertedToVMDKForTheSatelliteAndTheOriginalStaysAsItWas() async throws {
        let peer = try await BwlpPeer()
        defer { peer.stop() }
        let qcow2 = try TestDisk.converted(try TestDisk.raw(megabytes: 20, in: directory), to: "qcow2", in: directory)
        let fixture = try await fixture()
        let (image, deployed, alice) = try await deploy(qcow2, title: "From a cloud", as: .diskQcow2, to: peer, in: fixture, until: .deployed)
        #expect(deployed?.status == .deployed, "\(deployed?.statusMessage ?? "")")
        let (_, version) = BwLehrpoolAdapter.split(try #require(deployed?.environmentReference))
        let stored = peer.versionFile(version!)
        #expect(Array((try Data(contentsOf: URL(fileURLWithPath: stored))).prefix(4)) == Array("KDMV".utf8))
        #expect(TestDisk.sameContent(stored, qcow2))
        let after = try await fixture.registry.image(id: image.id!, owner: alice)
        let original = "sha256:" + (try TestDisk.sha256(qcow2))
        #expect(after.contenttype == .diskQcow2 && after.checksum == original)
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: fixture.directory.file("store/tmp"))) ?? []
        #expect(leftovers.isEmpty, "\(leftovers)")
        await fixture.stopWorkers()
    }

    /// A qcow2 that names another file of this machine — as its backing file, or as its external
    /// data file (the bug class of CVE-2024-32498) — would make `qemu-img convert` read that file
    /// into the deployed disk. Such uploads are refused by the header inspector, so the
    /// conversion never runs; the converter refuses them too, should one get in another way.
    @Test func aQcow2ThatPointsAtAnotherFileNeverReachesTheConverter() async throws {
        let peer = try await BwlpPeer()
        defer { peer.stop() }
        let secret = directory.file("host-secret.raw")
        try Data(repeating: 0x53, count: 1 << 20).write(to: URL(fileURLWithPath: secret))
        let backed = directory.file("backed.qcow2")
        try runProgram("/usr/bin/qemu-img", ["create", "-f", "qcow2", "-F", "raw", "-b", secret, backed])
        let hostData = directory.file("host-data.raw")
        let external = directory.file("external.qcow2")
        try runProgram("/usr/bin/qemu-img", ["create", "-f", "qcow2", "-o", "data_file=\(hostData)", external, "1M"])
        try Data(repeating: 0x44, count: 1 << 20).write(to: URL(fileURLWithPath: hostData))

        let fixture = try await fixture()
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        fixture.startWorkers()
        let satellite = try await fixture.registry.createEnvironment(peer.environment(), owner: alice)
        for (file, reason) in [(backed, "names a backing file"), (external, "external data file")] {
            let image = try await fixture.registry.createImage(Image(title: "sneaky", contenttype: .diskQcow2), owner: alice)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
            let (ticket, _) = try await fixture.stage(bytes, image: image.id!, owner: alice)
            _ = try await fixture.registry.finishUpload(ticket, owner: alice)
            let refused = try await fixture.waitForImage(image.id!, owner: alice, status: .failed)
            #expect(refused.status == .failed && refused.checksum == nil)
            #expect(refused.statusMessage?.contains(reason) == true, "\(refused.statusMessage ?? "")")
            // Nothing to deploy: the deployment is refused at the edge.
            await #expect(throws: ViceError.self) {
                try await fixture.registry.createDeployment(Deployment(imageid: image.id, environmentId: satellite.id), owner: alice)
            }
        }
        #expect(peer.images.isEmpty)
        // No blob was kept (the store's layout is blobs/sha256/<2 hex>/<digest>).
        let blobs = ((try? FileManager.default.subpathsOfDirectory(atPath: fixture.directory.file("store/blobs"))) ?? [])
            .filter { $0.split(separator: "/").count == 3 }
        #expect(blobs.isEmpty, "\(blobs)")

        // The converter's own check, behind the inspector.
        for (file, reason) in [(backed, "backing file"), (external, "another file")] {
            let output = directory.url.appendingPathComponent("out-\(UUID()).vmdk")
            await #expect {
                try await QemuImgConverter().convert(URL(fileURLWithPath: file), from: .diskQcow2, to: .diskVmdk, output: output)
            } throws: { error in
                "\(error)".contains(reason)
            }
            #expect(!FileManager.default.fileExists(atPath: output.path))
        }
        await fixture.stopWorkers()
    }

    @Test func theBwLehrpoolAdapterPassesTheConformanceSuite() async throws {
        let peer = try await BwlpPeer()
        defer { peer.stop() }
        let vmdk = try TestDisk.converted(try TestDisk.raw(megabytes: 3, in: directory), to: "vmdk", in: directory)
        let (base, _) = try peer.seed(vmdk, name: "Conformance sample")
        let temporary = directory.url
        let failures = await AdapterConformance(.init(
            descriptor: BwLehrpoolAdapter.descriptor,
            make: { try BwLehrpoolAdapter(environment: $0, context: AdapterContext(logger: Logger(label: "c"), temporaryDirectory: temporary)) },
            environment: peer.environment(), wrongCredentials: peer.environment(password: "wrong"), importable: base)).run()
        #expect(failures.isEmpty, "\(failures)")
    }
}

/// TLS to master, satellite and transfer server: verification, pinning, and the explicit opt-out.
@Suite(.serialized, .tags(.bwlehrpool)) struct BwLehrpoolTLSTests {
    @Test func theSatelliteIsPinnedByTheHashTheMasterPublishesAndTransfersRunOverTLS() async throws {
        let directory = try TemporaryDirectory()
        let peer = try await BwlpPeer(tls: true)
        defer { peer.stop() }
        let vmdk = try TestDisk.converted(try TestDisk.raw(megabytes: 18, in: directory), to: "vmdk", in: directory)
        let (base, _) = try peer.seed(vmdk, name: "Over TLS")
        func adapter(_ extra: [String: JSONValue]) throws -> BwLehrpoolAdapter {
            try BwLehrpoolAdapter(environment: peer.environment(extra: extra),
                                  context: AdapterContext(logger: Logger(label: "tls"), temporaryDirectory: directory.url))
        }
        // The master is verified against the CA file; the satellite is pinned by the master's hash.
        let trusted = try adapter(["caBundle": .string(peer.certificate)])
        let health = await trusted.health()
        #expect(health.status == .healthy, "\(health.message ?? "")")
        let source = try await trusted.importImage(reference: base)
        let bytes = try await source.content.collect(upTo: 64 << 20)
        #expect(Data(bytes) == (try Data(contentsOf: URL(fileURLWithPath: vmdk))))
        #expect(source.contenttype == .diskVmdk)

        // Without trust for the self-signed certificate the login fails, and says why.
        let untrusted = await (try adapter([:])).health()
        #expect(untrusted.status == .unhealthy && untrusted.message?.contains("logging in at the master") == true, "\(untrusted.message ?? "")")
        // A configured pin that does not match the satellite's certificate stops the connection.
        let wrongPin = await (try adapter(["caBundle": .string(peer.certificate), "certSha256": .string(String(repeating: "ab", count: 32))])).health()
        #expect(wrongPin.status == .unhealthy && wrongPin.message?.contains("connecting to the satellite") == true, "\(wrongPin.message ?? "")")
        // Only an explicit `insecure` turns verification off.
        #expect(await (try adapter(["insecure": .bool(true)])).health().status == .healthy)
    }
}

/// The peer keeps the satellite's transfer rules, so the adapter is tested against a strict one.
@Suite(.tags(.bwlehrpool)) struct BwlpPeerBehaviourTests {
    @Test func theTransferServerKeepsItsTimeoutsAndIgnoresUnknownTokens() async throws {
        let peer = try await BwlpPeer()
        defer { peer.stop() }
        let port = peer.ports["transfer"]!

        // No mode byte within 5 s: the server says so and hangs up.
        let silent = try await SocketConnection.connect(host: "127.0.0.1", port: port, security: .plain)
        #expect(try await BlockTransfer.readMeta(silent, timeout: .seconds(30))["ERROR"] == "timeout")
        await #expect(throws: SocketConnection.Failure.self) { try await silent.receive(exactly: 1, timeout: .seconds(10)) }

        // An unknown token: closed without a word.
        let unknown = try await SocketConnection.connect(host: "127.0.0.1", port: port, security: .plain)
        try await unknown.send([UInt8(ascii: "D")] + BlockTransfer.meta([("TOKEN", "not-a-token")]))
        await #expect(throws: SocketConnection.Failure.self) { try await unknown.receive(exactly: 1, timeout: .seconds(10)) }

        // A known transfer that then stalls for 15 s: ERROR=timeout.
        let directory = try TemporaryDirectory()
        let file = try TestDisk.raw(megabytes: 1, in: directory)
        let (base, _) = try peer.seed(file, name: "timeout")
        let adapter = try BwLehrpoolAdapter(environment: peer.environment(), context: AdapterContext(logger: Logger(label: "t")))
        let session = try await adapter.session()
        let details = try await session.satellite.getImageDetails(base)
        let transfer = try await session.satellite.requestDownload(details.latestVersionId!)
        let stalled = try await SocketConnection.connect(host: "127.0.0.1", port: port, security: .plain)
        try await stalled.send([UInt8(ascii: "D")] + BlockTransfer.meta([("TOKEN", transfer.token)]))
        let reply = try await BlockTransfer.readMeta(stalled, timeout: .seconds(30))
        #expect(reply["ERROR"] == "timeout")
        await session.satellite.client.close()
    }
}
