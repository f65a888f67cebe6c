import Foundation
import Logging
import Testing
import ViceAdapterTesting
import ViceCore
import ViceExternal
import ViceTestSupport

/// The external adapter protocol against the example plugin of examples/external-adapter (a
/// Python process of its own, written from the protocol document, not from the registry's code).
@Suite struct ExternalAdapterTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// A folder environment of the directory backend, with one image `sample.raw`.
    func folder(_ name: String, password: String? = nil, sample: [UInt8]? = nil) throws -> Environment {
        let path = directory.file(name)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        if let sample {
            try Data(sample).write(to: URL(fileURLWithPath: path + "/sample.raw"))
            try #"{"contenttype": "disk-raw", "title": "Sample disk"}"#.write(toFile: path + "/sample.raw.json", atomically: true, encoding: .utf8)
        }
        if let password { try password.write(toFile: path + "/.password", atomically: true, encoding: .utf8) }
        return Environment(title: "folder \(name)", credentials: Credentials(location: path, password: password),
                           managementlayer: ManagementLayer(type: .basic, software: "directory"))
    }

    static func sampleBytes() -> [UInt8] { (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) } }

    @Test func theExamplePluginPassesTheConformanceSuite() async throws {
        let plugin = try await DirectoryPlugin(socket: directory.file("directory.sock"))
        defer { plugin.stop() }
        let external = ExternalPlugin(kind: "directory", socketPath: plugin.socket, logger: Logger(label: "test"))
        #expect(await external.handshake())
        #expect(external.descriptor.version == "1.0.0" && external.descriptor.capabilities.canDeploy(.diskQcow2))
        var wrong = try folder("guarded", password: "right", sample: Self.sampleBytes())
        wrong.credentials?.password = "wrong"
        let factory = external.factory
        let failures = await AdapterConformance(.init(
            descriptor: external.descriptor,
            make: { try factory.make($0, AdapterContext(logger: Logger(label: "test"))) },
            environment: try folder("guarded-ok", password: "right", sample: Self.sampleBytes()),
            wrongCredentials: wrong, importable: "sample.raw")).run()
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func imagesTravelThroughThePluginAndTheRegistry() async throws {
        let plugin = try await DirectoryPlugin(socket: directory.file("directory.sock"))
        defer { plugin.stop() }
        let external = ExternalPlugin(kind: "directory", socketPath: plugin.socket, logger: Logger(label: "test"))
        let fixture = try await RegistryFixture(maxJobAttempts: 2)
        fixture.registry.catalog.register(external.factory)
        external.startMonitoring()
        defer { external.stopMonitoring() }
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        let source = try await fixture.registry.createEnvironment(try folder("source", sample: Self.sampleBytes()), owner: alice)
        let targetFolder = try folder("target")
        let target = try await fixture.registry.createEnvironment(targetFolder, owner: alice)
        fixture.startWorkers()

        #expect(try await fixture.registry.environmentHealth(id: source.id!, owner: alice).status == .healthy)
        #expect(try await fixture.registry.environmentImages(id: source.id!, owner: alice).map(\.reference) == ["sample.raw"])
        let image = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: source.id), environmentReference: "sample.raw"), owner: alice)
        let stored = try await fixture.waitForImage(image.id!, owner: alice, status: .active)
        #expect(stored.status == .active, "\(stored.statusMessage ?? "")")
        #expect(stored.contenttype == .diskRaw && stored.title == "Sample disk" && stored.size == 300_000)
        #expect(stored.specifics?["file"] == .string("sample.raw"))

        let deployment = try await fixture.registry.createDeployment(Deployment(imageid: image.id, environmentId: target.id), owner: alice)
        let deployed = try await fixture.waitForDeployment(deployment.id!, owner: alice, status: .deployed)
        #expect(deployed?.status == .deployed, "\(deployed?.statusMessage ?? "")")
        let reference = try #require(deployed?.environmentReference)
        // The plugin answered with progress lines: the phase it reported after the bytes is the job's last.
        let deployJob = try await fixture.registry.job(id: try #require(deployment.jobId), owner: alice)
        #expect(deployJob.phase == "waiting-for-target" && deployJob.state == "succeeded", "\(deployJob)")
        #expect(deployJob.bytesDone == 300_000 && deployJob.bytesTotal == 300_000)
        let written = targetFolder.credentials!.location! + "/" + reference
        #expect(try Data(contentsOf: URL(fileURLWithPath: written)) == Data(Self.sampleBytes()))

        _ = try await fixture.registry.deleteDeployment(id: deployment.id!, owner: alice)
        #expect(await eventually(timeout: .seconds(120)) { !FileManager.default.fileExists(atPath: written) })
        #expect(await eventually(timeout: .seconds(120)) { (try? await fixture.registry.deployment(id: deployment.id!, owner: alice)) == nil })
        await fixture.stopWorkers()
    }

    @Test func aPluginThatIsDownIsUnhealthyAndIsPickedUpWhenItComes() async throws {
        let socket = directory.file("late.sock")
        let external = ExternalPlugin(kind: "directory", socketPath: socket, logger: Logger(label: "test"))
        let fixture = try await RegistryFixture()
        fixture.registry.catalog.register(external.factory)
        external.startMonitoring()  // returns at once: start-up never waits for a plugin
        defer { external.stopMonitoring() }
        // The test engines listen on loopback: only an admin's environments may reach them.
        let alice = try await fixture.user("alice", admin: true)
        let environment = try await fixture.registry.createEnvironment(try folder("late", sample: Self.sampleBytes()), owner: alice)

        let down = try await fixture.registry.environmentHealth(id: environment.id!, owner: alice)
        #expect(down.status == .unhealthy)
        #expect(down.message?.contains("the directory plugin is down: not reachable on \(socket)") == true, "\(down.message ?? "")")
        #expect(fixture.registry.adapters().first { $0.kind == "directory" }?.summary.contains("not reachable") == true)
        await #expect(throws: ViceError.self) { try await fixture.registry.environmentImages(id: environment.id!, owner: alice) }

        let plugin = try await DirectoryPlugin(socket: socket)
        defer { plugin.stop() }
        #expect(try await fixture.registry.environmentHealth(id: environment.id!, owner: alice).status == .healthy)
        #expect(fixture.registry.adapters().first { $0.kind == "directory" }?.version == "1.0.0")
    }

    @Test func aPluginOfAnotherKindOrProtocolIsRefused() async throws {
        let plugin = try await DirectoryPlugin(socket: directory.file("other.sock"))
        defer { plugin.stop() }
        let misconfigured = ExternalPlugin(kind: "folders", socketPath: plugin.socket, logger: Logger(label: "test"))
        #expect(await !misconfigured.handshake())
        #expect(misconfigured.descriptor.summary.contains("serves 'directory', but it is configured for 'folders'"))
    }
}
