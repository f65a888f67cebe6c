import Crypto
import Foundation
import Logging
import Testing
import ViceAdapterTesting
import ViceCore
import ViceDocker
import ViceTestSupport
import ViceSQLite

/// The Docker adapter against the real engine that script/test starts.
@Suite(.serialized, .tags(.docker)) struct DockerAdapterTests {
    func fixture() async throws -> RegistryFixture {
        let fixture = try await RegistryFixture(maxJobAttempts: 2)
        fixture.registry.catalog.register(DockerAdapter.self)
        return fixture
    }

    @Test func healthAndListSeeTheEngine() async throws {
        let socket = try DockerTestEngine.socket()
        try await DockerTestEngine.buildHello("vice-test/listed:1")
        let adapter = try DockerAdapter(environment: DockerTestEngine.environment(socket: socket),
                                        context: AdapterContext(logger: Logger(label: "test")))
        let health = await adapter.health()
        #expect(health.status == .healthy, "\(health.message ?? "")")
        #expect(health.message?.contains("API 1.") == true)
        let images = try await adapter.listImages()
        #expect(images.contains { $0.reference == "vice-test/listed:1" && $0.contenttype == .dockerImage })

        let missing = try DockerAdapter(environment: DockerTestEngine.environment(socket: "/nonexistent/docker.sock"),
                                        context: AdapterContext(logger: Logger(label: "test")))
        #expect(await missing.health().status == .unhealthy)
    }

    @Test func anImageTravelsFromTheEngineThroughTheRegistryAndBack() async throws {
        let socket = try DockerTestEngine.socket()
        try await DockerTestEngine.buildHello("vice-test/roundtrip:1", text: "round trip \(UUID())")
        let fixture = try await fixture()
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        let engine = try await fixture.registry.createEnvironment(DockerTestEngine.environment(socket: socket), owner: alice)
        fixture.startWorkers()

        let image = try await fixture.registry.createImage(
            Image(title: "Round Trip!", originEnvironment: Environment(id: engine.id), environmentReference: "vice-test/roundtrip:1"),
            owner: alice)
        let stored = try await fixture.waitForImage(image.id!, owner: alice, status: .active)
        #expect(stored.status == .active, "\(stored.statusMessage ?? "")")
        #expect(stored.contenttype == .dockerImage)
        #expect(stored.specifics?["repoTags"] == .array([.string("vice-test/roundtrip:1")]))
        #expect((stored.size ?? 0) > 1024)

        // Gone from the engine, then deployed back from the registry.
        #expect(try await DockerTestEngine.request("DELETE", "/images/vice-test/roundtrip:1?force=1").0 == 200)
        #expect(try await !DockerTestEngine.exists("vice-test/roundtrip:1"))
        let deployment = try await fixture.registry.createDeployment(
            Deployment(imageid: image.id, environmentId: engine.id), owner: alice)
        let deployed = try await fixture.waitForDeployment(deployment.id!, owner: alice, status: .deployed)
        #expect(deployed?.status == .deployed, "\(deployed?.statusMessage ?? "")")
        let reference = try #require(deployed?.environmentReference)
        #expect(reference == "vice/alice/round-trip:\(image.id!)")
        #expect(try await DockerTestEngine.exists(reference))

        _ = try await fixture.registry.deleteDeployment(id: deployment.id!, owner: alice)
        #expect(await eventually(timeout: .seconds(120)) { (try? await fixture.registry.deployment(id: deployment.id!, owner: alice)) == nil })
        #expect(try await !DockerTestEngine.exists(reference))
        await fixture.stopWorkers()
    }

    @Test func aLargeImportShowsItsBytesRisingWhileItRuns() async throws {
        let socket = try DockerTestEngine.socket()
        // One layer of 256 MiB that does not compress, written to a file and sent by curl: the
        // test process (shared with every suite, some of which measure its memory) holds 1 MiB.
        let directory = try TemporaryDirectory()
        let context = directory.url.appendingPathComponent("large-context.tar")
        _ = FileManager.default.createFile(atPath: context.path, contents: nil)
        let handle = try FileHandle(forWritingTo: context)
        let dockerfile = Array("FROM scratch\nCOPY blob /blob\n".utf8)
        let size = 256 << 20
        try handle.write(contentsOf: tarHeader(name: "Dockerfile", size: dockerfile.count) + dockerfile + tarPadding(after: dockerfile.count))
        try handle.write(contentsOf: tarHeader(name: "blob", size: size))
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        for _ in 0..<(size >> 20) {
            chunk.withUnsafeMutableBytes { raw in
                for index in raw.bindMemory(to: UInt64.self).indices {
                    state ^= state << 13; state ^= state >> 7; state ^= state << 17
                    raw.bindMemory(to: UInt64.self)[index] = state
                }
            }
            try handle.write(contentsOf: chunk)
        }
        try handle.write(contentsOf: tarPadding(after: size) + tarEnd)
        try handle.close()
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        build.arguments = ["-sf", "--unix-socket", socket, "-X", "POST", "-H", "Content-Type: application/x-tar",
                           "-T", context.path, "-o", directory.file("build.log"), "http://docker/build?t=vice-test/large:1&rm=1"]
        try build.run()
        await build.finished()
        #expect(build.terminationStatus == 0)
        #expect(try !String(contentsOfFile: directory.file("build.log"), encoding: .utf8).contains("\"error\""))
        try? FileManager.default.removeItem(at: context)
        let fixture = try await fixture()
        let alice = try await fixture.user("alice", admin: true)
        let engine = try await fixture.registry.createEnvironment(DockerTestEngine.environment(socket: socket), owner: alice)
        fixture.startWorkers()
        let image = try await fixture.registry.createImage(
            Image(title: "large", originEnvironment: Environment(id: engine.id), environmentReference: "vice-test/large:1"), owner: alice)
        let job = try #require(image.jobId)
        let stored = try await fixture.waitForImage(image.id!, owner: alice, status: .active)
        #expect(stored.status == .active, "\(stored.statusMessage ?? "")")

        // What callers saw while it ran: bytesDone rising, saved again and again on the way.
        let reported = try await fixture.progressReported(jobID: job)
        // A change of phase is saved too, with the same bytes: never falling, several values on the way.
        #expect(Set(reported).count >= 2, "progress saved while the import ran: \(reported)")
        #expect(reported == reported.sorted(), "never falling: \(reported)")
        let finished = try await fixture.registry.job(id: job, owner: alice)
        #expect(finished.state == "succeeded" && finished.phase == "storing")
        #expect((finished.bytesDone ?? 0) >= 256 << 20 && (reported.last ?? 0) <= finished.bytesDone ?? 0)
        _ = try await DockerTestEngine.request("DELETE", "/images/vice-test/large:1?force=1")
        await fixture.stopWorkers()
    }

    @Test func aDockerfileIsBuiltByTheEngineOnDeploy() async throws {
        let socket = try DockerTestEngine.socket()
        try await DockerTestEngine.buildHello("vice-test/base:1")
        let fixture = try await fixture()
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        let engine = try await fixture.registry.createEnvironment(DockerTestEngine.environment(socket: socket), owner: alice)
        fixture.startWorkers()
        let image = try await fixture.registry.createImage(
            Image(title: "labelled", contenttype: .dockerFile, specifics: .object(["tag": .string("vice-test/built:7")])), owner: alice)
        let dockerfile = Array("FROM vice-test/base:1\nLABEL vice.test=\"yes\"\n".utf8)
        let (ticket, _) = try await fixture.stage(dockerfile, image: image.id!, owner: alice)
        _ = try await fixture.registry.finishUpload(ticket, owner: alice)
        _ = try await fixture.waitForImage(image.id!, owner: alice, status: .active)

        let deployment = try await fixture.registry.createDeployment(Deployment(imageid: image.id, environmentId: engine.id), owner: alice)
        let deployed = try await fixture.waitForDeployment(deployment.id!, owner: alice, status: .deployed)
        #expect(deployed?.status == .deployed, "\(deployed?.statusMessage ?? "")")
        // The caller's tag lies in the registry's namespace for this user.
        #expect(deployed?.environmentReference == "vice/alice/vice-test/built:7")
        let (status, body) = try await DockerTestEngine.request("GET", "/images/vice/alice/vice-test/built:7/json")
        #expect(status == 200)
        #expect(String(decoding: body, as: UTF8.self).contains("\"vice.test\":\"yes\""))

        // A Dockerfile the engine cannot build fails the deployment with the engine's words.
        let broken = try await fixture.registry.createImage(Image(title: "broken", contenttype: .dockerFile), owner: alice)
        // (It fails inside the engine: nothing is pulled, this machine has no registry to reach.)
        let bad = Array("FROM vice-test/base:1\nCOPY not-in-the-context.txt /\n".utf8)
        let (badTicket, _) = try await fixture.stage(bad, image: broken.id!, owner: alice)
        _ = try await fixture.registry.finishUpload(badTicket, owner: alice)
        _ = try await fixture.waitForImage(broken.id!, owner: alice, status: .active)
        let failing = try await fixture.registry.createDeployment(Deployment(imageid: broken.id, environmentId: engine.id), owner: alice)
        let failed = try await fixture.waitForDeployment(failing.id!, owner: alice, status: .failed)
        #expect(failed?.status == .failed)
        #expect(failed?.statusMessage?.contains("building the Dockerfile") == true, "\(failed?.statusMessage ?? "")")
        await fixture.stopWorkers()
    }

    @Test func engineErrorsEndAsFailedJobsWithTheEnginesMessage() async throws {
        let socket = try DockerTestEngine.socket()
        let fixture = try await fixture()
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        let engine = try await fixture.registry.createEnvironment(DockerTestEngine.environment(socket: socket), owner: alice)
        let unreachable = try await fixture.registry.createEnvironment(
            DockerTestEngine.environment(socket: "/nonexistent/docker.sock"), owner: alice)
        fixture.startWorkers()

        let unknown = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: engine.id), environmentReference: "vice-test/never-built:0"), owner: alice)
        let failed = try await fixture.waitForImage(unknown.id!, owner: alice, status: .failed)
        #expect(failed.statusMessage?.contains("No such image") == true, "\(failed.statusMessage ?? "")")

        let away = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: unreachable.id), environmentReference: "anything"), owner: alice)
        let notReached = try await fixture.waitForImage(away.id!, owner: alice, status: .failed)
        #expect(notReached.statusMessage?.contains("cannot be reached") == true, "\(notReached.statusMessage ?? "")")

        // A tar whose manifest is not a manifest: refused on its way to the engine.
        let garbage = tarArchive([("manifest.json", Array("not json".utf8))])
        let blob = try await fixture.blobs.put(ByteStream(bytes: garbage))
        let now = Date()
        let bogusID = IDGenerator.make()
        try await fixture.store.write { tx in
            try tx.insertImage(StoredImage(image: Image(id: bogusID, title: "bogus", userid: alice.id, contenttype: .dockerImage,
                                                        imported: true, status: .active, size: blob.size, checksum: blob.digest,
                                                        createdAt: now, updatedAt: now)))
        }
        let deployment = try await fixture.registry.createDeployment(Deployment(imageid: bogusID, environmentId: engine.id), owner: alice)
        let refused = try await fixture.waitForDeployment(deployment.id!, owner: alice, status: .failed)
        #expect(refused?.status == .failed)
        #expect(refused?.statusMessage?.contains("manifest.json is not a JSON array") == true, "\(refused?.statusMessage ?? "")")
        await fixture.stopWorkers()
    }

    @Test func anImageAContainerUsesIsNotRemoved() async throws {
        let socket = try DockerTestEngine.socket()
        try await DockerTestEngine.buildHello("vice-test/inuse:1", text: "in use \(UUID())")
        let fixture = try await fixture()
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        let engine = try await fixture.registry.createEnvironment(DockerTestEngine.environment(socket: socket), owner: alice)
        fixture.startWorkers()
        let image = try await fixture.registry.createImage(
            Image(title: "in use", originEnvironment: Environment(id: engine.id), environmentReference: "vice-test/inuse:1"), owner: alice)
        _ = try await fixture.waitForImage(image.id!, owner: alice, status: .active)
        let deployment = try await fixture.registry.createDeployment(Deployment(imageid: image.id, environmentId: engine.id), owner: alice)
        let deployed = try #require(try await fixture.waitForDeployment(deployment.id!, owner: alice, status: .deployed))
        let reference = try #require(deployed.environmentReference)
        // Only the deployment's tag is left on the image, and a container uses it.
        #expect(try await DockerTestEngine.request("DELETE", "/images/vice-test/inuse:1").0 == 200)
        let (created, body) = try await DockerTestEngine.request(
            "POST", "/containers/create", json: #"{"Image": "\#(reference)", "Cmd": ["/hello.txt"], "HostConfig": {"NetworkMode": "none"}}"#)
        #expect(created == 201, "\(String(decoding: body, as: UTF8.self))")
        let container = (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["Id"] as? String ?? ""

        _ = try await fixture.registry.deleteDeployment(id: deployment.id!, owner: alice)
        let failed = try await fixture.waitForDeployment(deployment.id!, owner: alice, status: .failed)
        #expect(failed?.status == .failed)
        #expect(failed?.statusMessage?.contains("removal failed") == true, "\(failed?.statusMessage ?? "")")
        #expect(failed?.statusMessage?.contains("being used") == true || failed?.statusMessage?.contains("conflict") == true)
        #expect(try await DockerTestEngine.exists(reference))
        _ = try await DockerTestEngine.request("DELETE", "/containers/\(container)?force=1")
        await fixture.stopWorkers()
    }
}

/// A container runs from an image that went engine → registry → engine.
@Suite(.tags(.docker)) struct DockerContainerTests {
    /// The output of a container without a TTY: frames of [stream, 0, 0, 0, length (u32 BE), payload].
    static func demultiplex(_ bytes: [UInt8]) -> String {
        var offset = 0
        var text = ""
        while offset + 8 <= bytes.count {
            let length = Int(bytes[offset + 4]) << 24 | Int(bytes[offset + 5]) << 16 | Int(bytes[offset + 6]) << 8 | Int(bytes[offset + 7])
            let end = min(bytes.count, offset + 8 + length)
            text += String(decoding: bytes[(offset + 8)..<end], as: UTF8.self)
            offset = end
        }
        return text
    }

    @Test func aBusyboxImageRunsAfterTheRoundTrip() async throws {
        let socket = try DockerTestEngine.socket()
        let busybox = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "/bin/busybox")))
        let context = tarArchive([("Dockerfile", Array("FROM scratch\nCOPY busybox /bin/busybox\nENV PATH=/bin\nCMD [\"/bin/busybox\", \"echo\", \"hello\"]\n".utf8)),
                           ("busybox", busybox)])
        let (built, log) = try await DockerTestEngine.request("POST", "/build?t=vice-test/busybox:1&rm=1", body: context,
                                                              contentType: "application/x-tar")
        #expect(built == 200 && !String(decoding: log, as: UTF8.self).contains("\"error\""), "\(String(decoding: log, as: UTF8.self))")

        let fixture = try await RegistryFixture(maxJobAttempts: 2)
        fixture.registry.catalog.register(DockerAdapter.self)
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        let engine = try await fixture.registry.createEnvironment(DockerTestEngine.environment(socket: socket), owner: alice)
        fixture.startWorkers()
        let image = try await fixture.registry.createImage(
            Image(title: "busybox", originEnvironment: Environment(id: engine.id), environmentReference: "vice-test/busybox:1"), owner: alice)
        #expect(try await fixture.waitForImage(image.id!, owner: alice, status: .active).status == .active)
        #expect(try await DockerTestEngine.request("DELETE", "/images/vice-test/busybox:1").0 == 200)

        let deployment = try await fixture.registry.createDeployment(Deployment(imageid: image.id, environmentId: engine.id), owner: alice)
        let deployed = try #require(try await fixture.waitForDeployment(deployment.id!, owner: alice, status: .deployed))
        let reference = try #require(deployed.environmentReference)

        let (created, body) = try await DockerTestEngine.request("POST", "/containers/create", json: """
            {"Image": "\(reference)", "Cmd": ["/bin/busybox", "echo", "hello from vice"], "HostConfig": {"NetworkMode": "none"}}
            """)
        #expect(created == 201, "\(String(decoding: body, as: UTF8.self))")
        let container = try #require((try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["Id"] as? String)
        #expect(try await DockerTestEngine.request("POST", "/containers/\(container)/start").0 == 204)
        let (waited, exit) = try await DockerTestEngine.request("POST", "/containers/\(container)/wait")
        #expect(waited == 200 && String(decoding: exit, as: UTF8.self).contains("\"StatusCode\":0"))
        let (_, logs) = try await DockerTestEngine.request("GET", "/containers/\(container)/logs?stdout=1&stderr=1")
        #expect(Self.demultiplex(logs) == "hello from vice\n")
        #expect(try await DockerTestEngine.request("DELETE", "/containers/\(container)").0 == 204)

        _ = try await fixture.registry.deleteDeployment(id: deployment.id!, owner: alice)
        #expect(await eventually(timeout: .seconds(120)) { (try? await fixture.registry.deployment(id: deployment.id!, owner: alice)) == nil })
        #expect(try await !DockerTestEngine.exists(reference))
        await fixture.stopWorkers()
    }

    @Test func theDockerAdapterPassesTheConformanceSuite() async throws {
        let socket = try DockerTestEngine.socket()
        try await DockerTestEngine.buildHello("vice-test/conformance:1", text: "conformance \(UUID())")
        let failures = await AdapterConformance(.init(
            DockerAdapter.self, environment: DockerTestEngine.environment(socket: socket),
            importable: "vice-test/conformance:1", roundTripIsByteExact: false)).run()
        #expect(failures.isEmpty, "\(failures)")
    }
}
