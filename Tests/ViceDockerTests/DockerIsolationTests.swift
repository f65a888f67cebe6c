import Foundation
import Logging
import Testing
import ViceAdapterTesting
import ViceCore
import ViceDocker
import ViceTestSupport
import ViceSQLite

/// The host's engine is not the users', a loaded archive cannot move a tag it did not create, and
/// engines that verify clients are reached with mutual TLS.
@Suite(.serialized, .tags(.docker)) struct DockerIsolationTests {
    func fixture() async throws -> RegistryFixture {
        let fixture = try await RegistryFixture(maxJobAttempts: 2)
        fixture.registry.catalog.register(DockerAdapter.self)
        return fixture
    }

    static func docker(_ location: String?, specifics: [String: JSONValue] = [:]) -> Environment {
        Environment(title: "docker", credentials: Credentials(location: location, specifics: .object(specifics)),
                    runtimetechnology: RuntimeTechnology(type: .container, software: "docker"),
                    managementlayer: ManagementLayer(type: .basic, software: "docker"))
    }

    static func id(of reference: String) async throws -> String? {
        let (status, body) = try await DockerTestEngine.request("GET", "/images/\(reference)/json")
        guard status == 200 else { return nil }
        return (try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["Id"] as? String
    }

    @Test func usersCannotReachTheHostsEngine() async throws {
        let socket = try DockerTestEngine.socket()
        let fixture = try await fixture()
        let mallory = try await fixture.user("mallory")
        let refusals: [(String?, [String: JSONValue], String)] = [
            ("unix://\(socket)", [:], "unix socket"),
            ("unix:///var/run/docker.sock", [:], "unix socket"),
            (nil, [:], "needs credentials.location"),
            ("", [:], "needs credentials.location"),
            ("tcp://127.0.0.1:2375", [:], "loopback"),
            ("tcp://localhost:2375", [:], "loopback"),
            ("tcp://[::ffff:127.0.0.1]:2375", [:], "loopback"),
            ("tcp://192.0.2.1:2376", ["tls": .bool(true), "clientKey": .string("/etc/ssl/private/host.key"),
                                      "clientCertificate": .string("/etc/ssl/certs/host.pem")], "names a file on the registry's host"),
            ("tcp://192.0.2.1:2376", ["tagPrefix": .string("library")], "tagPrefix"),
        ]
        for (location, specifics, reason) in refusals {
            await #expect {
                _ = try await fixture.registry.createEnvironment(Self.docker(location, specifics: specifics), owner: mallory)
            } throws: { error in
                (error as? ViceError)?.code == .invalidInput && "\(error)".contains(reason)
            }
        }
        // Inline in POST /images too.
        await #expect(throws: ViceError.self) {
            _ = try await fixture.registry.createImage(
                Image(originEnvironment: Self.docker("unix://\(socket)"), environmentReference: "busybox:latest"), owner: mallory)
        }
        // An admin's environment on the same socket works.
        let root = try await fixture.user("root", admin: true)
        let engine = try await fixture.registry.createEnvironment(Self.docker("unix://\(socket)"), owner: root)
        #expect(try await fixture.registry.environmentHealth(id: engine.id!, owner: root).status == .healthy)
    }

    @Test func aLoadedArchiveNeverMovesAnExistingTag() async throws {
        let socket = try DockerTestEngine.socket()
        let victim = "vice-test/victim:\(Int.random(in: 1...1_000_000))"
        // The attacker's image, saved while it carries the victim's tag…
        try await DockerTestEngine.buildHello(victim, text: "attacker \(UUID())")
        let attackerID = try #require(try await Self.id(of: victim))
        let (saved, archive) = try await DockerTestEngine.request("GET", "/images/\(victim)/get")
        #expect(saved == 200)
        #expect(try await DockerTestEngine.request("DELETE", "/images/\(victim)?force=1").0 == 200)
        // …then the real image under that tag.
        try await DockerTestEngine.buildHello(victim, text: "the real one \(UUID())")
        let originalID = try #require(try await Self.id(of: victim))
        #expect(originalID != attackerID)

        let fixture = try await fixture()
        let root = try await fixture.user("root", admin: true)
        let engine = try await fixture.registry.createEnvironment(Self.docker("unix://\(socket)"), owner: root)
        let blob = try await fixture.blobs.put(ByteStream(bytes: archive))
        let imageID = IDGenerator.make(), now = Date()
        try await fixture.store.write { tx in
            try tx.insertImage(StoredImage(image: Image(id: imageID, title: "innocent", userid: root.id, contenttype: .dockerImage,
                                                        imported: true, status: .active, size: blob.size, checksum: blob.digest,
                                                        createdAt: now, updatedAt: now)))
        }
        fixture.startWorkers()
        let deployment = try await fixture.registry.createDeployment(Deployment(imageid: imageID, environmentId: engine.id), owner: root)
        let deployed = try await fixture.waitForDeployment(deployment.id!, owner: root, status: .deployed)
        #expect(deployed?.status == .deployed, "\(deployed?.statusMessage ?? "")")
        let reference = try #require(deployed?.environmentReference)
        #expect(reference.hasPrefix("vice/root/"), "\(reference)")
        #expect(try await Self.id(of: reference) == attackerID)
        #expect(try await Self.id(of: victim) == originalID, "the archive's RepoTags moved \(victim)")

        // Removal takes what the deployment added, and only that.
        _ = try await fixture.registry.deleteDeployment(id: deployment.id!, owner: root)
        #expect(await eventually(timeout: .seconds(120)) { (try? await fixture.registry.deployment(id: deployment.id!, owner: root)) == nil })
        #expect(try await Self.id(of: reference) == nil)
        #expect(try await Self.id(of: attackerID) == nil, "the image the deployment brought is gone with its tag")
        #expect(try await Self.id(of: victim) == originalID)
        await fixture.stopWorkers()
    }

    @Test func enginesThatVerifyClientsAreReachedWithMutualTLS() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let url = env["VICE_TEST_DOCKER_TLS_URL"], let certificates = env["VICE_TEST_DOCKER_TLS_DIR"] else {
            throw DockerTestError(description: "no TLS engine: run the tests with script/test, which starts dockerd with --tlsverify")
        }
        let context = AdapterContext(logger: Logger(label: "test"), egress: .trusted, ownerName: "root")
        let tls: [String: JSONValue] = ["tls": .bool(true), "caBundle": .string(certificates + "/ca.pem")]
        var mutual = tls
        mutual["clientCertificate"] = .string(certificates + "/client.pem")
        mutual["clientKey"] = .string(certificates + "/client-key.pem")
        let withClient = try DockerAdapter(environment: Self.docker(url, specifics: mutual), context: context)
        let health = await withClient.health()
        #expect(health.status == .healthy, "\(health.message ?? "")")
        #expect(try await withClient.listImages().isEmpty == false)

        // Without a client certificate the engine refuses the handshake.
        let anonymous = await (try DockerAdapter(environment: Self.docker(url, specifics: tls), context: context)).health()
        #expect(anonymous.status == .unhealthy)
        // Nor does a certificate authority the engine's certificate is not from do.
        var wrongCA = mutual
        wrongCA["caBundle"] = .string(certificates + "/client.pem")
        #expect(await (try DockerAdapter(environment: Self.docker(url, specifics: wrongCA), context: context)).health().status == .unhealthy)
        #expect(throws: AdapterError.self) {
            var half = tls
            half["clientKey"] = .string(certificates + "/client-key.pem")
            _ = try DockerAdapter(environment: Self.docker(url, specifics: half), context: context)
        }
    }
}
