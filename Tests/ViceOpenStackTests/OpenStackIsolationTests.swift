import Foundation
import Logging
import Testing
import ViceAdapterTesting
import ViceCore
import ViceHTTP
@testable import ViceOpenStack
import ViceTestSupport

/// A hostile "Keystone" (Peers/fake_keystone.py) that issues a token for anything and names
/// file://, gopher:// and foreign URLs as its catalog, version links and answers: none of them is
/// followed, and nothing it sends is echoed to the caller.
@Suite(.serialized) struct OpenStackIsolationTests {
    /// The fake Keystone, for the duration of one test.
    final class FakeKeystone: @unchecked Sendable {
        let port: Int
        let trapPort: Int
        private let process = Process()
        private let input = Pipe()

        init(_ config: [String: Any]) async throws {
            let directory = try TemporaryDirectory()
            let portFile = directory.file("port")
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peers/fake_keystone.py").path
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [script, String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self), portFile]
            process.standardInput = input
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            var ports: [Int] = []
            _ = await eventually(timeout: .seconds(20)) {
                ports = ((try? String(contentsOfFile: portFile, encoding: .utf8)) ?? "").split(separator: " ").compactMap { Int($0) }
                return ports.count == 2
            }
            guard ports.count == 2 else { throw TestbedError("the fake Keystone did not start") }
            (port, trapPort) = (ports[0], ports[1])
        }

        deinit {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }

        var url: String { "http://127.0.0.1:\(port)" }

        /// Connections the trap socket has seen.
        func trapped() async throws -> Int {
            let response = try await HTTPClient().execute(HTTPClientRequest(url: "\(url)/trap-count"))
            return Int(String(decoding: try await response.collect(), as: UTF8.self)) ?? -1
        }
    }

    static func environment(_ location: String, specifics: [String: JSONValue] = [:]) -> Environment {
        var all = specifics
        all["tenant"] = .string("p")
        return Environment(title: "hostile", credentials: Credentials(location: location, username: "u", password: "x", specifics: .object(all)),
                           managementlayer: ManagementLayer(type: .cloudcomputing, software: "openstack"))
    }

    /// An admin's adapter: loopback is allowed, so only the URL rules stand between the fake
    /// Keystone and the host.
    static func adapter(_ environment: Environment) throws -> OpenStackAdapter {
        try OpenStackAdapter(environment: environment, context: AdapterContext(logger: Logger(label: "test"), egress: .trusted))
    }

    static let hostname = (try? String(contentsOfFile: "/etc/hostname", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"

    @Test func aFileImageEndpointIsRefusedAndTheFileIsNeverRead() async throws {
        let keystone = try await FakeKeystone([:])
        let environment = Self.environment(keystone.url + "/v3", specifics: ["imageEndpoint": .string("file:///etc/hostname#")])
        #expect(throws: AdapterError.self) { try Self.adapter(environment) }
        // Through the API it is invalid input at once, for a user and for an admin alike.
        let fixture = try await RegistryFixture()
        fixture.registry.catalog.register(OpenStackAdapter.self)
        for admin in [false, true] {
            let owner = try await fixture.user(admin ? "root" : "mallory", admin: admin)
            await #expect {
                _ = try await fixture.registry.createEnvironment(environment, owner: owner)
            } throws: { error in
                let message = "\(error)"
                return message.contains(admin ? "file scheme" : "loopback") && !message.contains(Self.hostname)
            }
        }
    }

    @Test func catalogURLsOfOtherSchemesAreNotFollowed() async throws {
        for image in ["file:///etc/hostname#", "gopher://127.0.0.1:{trap}/_stats%0d%0a", "dict://127.0.0.1:{trap}/info"] {
            let keystone = try await FakeKeystone(["image_url": image])
            let health = await (try Self.adapter(Self.environment(keystone.url + "/v3"))).health()
            #expect(health.status == .unhealthy)
            let message = health.message ?? ""
            #expect(message.contains("catalog") && message.contains("only http and https"), "\(message)")
            #expect(!message.contains(Self.hostname))
            #expect(try await keystone.trapped() == 0, "a request reached the trap")
        }
    }

    @Test func versionLinksAreCheckedLikeEveryOtherURL() async throws {
        let keystone = try await FakeKeystone(["version_link": "gopher://127.0.0.1:{trap}/_x"])
        let health = await (try Self.adapter(Self.environment(keystone.url + "/identity"))).health()
        #expect(health.status == .unhealthy)
        #expect(health.message?.contains("version document") == true, "\(health.message ?? "")")
        #expect(try await keystone.trapped() == 0)
        // A link into the metadata range is refused even for an admin's environment.
        let metadata = try await FakeKeystone(["version_link": "http://169.254.169.254/v3"])
        let refused = await (try Self.adapter(Self.environment(metadata.url + "/identity"))).health()
        #expect(refused.message?.contains("link-local") == true, "\(refused.message ?? "")")
    }

    @Test func whatARemoteServerAnswersIsNotEchoed() async throws {
        let secret = "root:x:0:0:TOP-SECRET-CONTENT"
        let keystone = try await FakeKeystone(["glance_status": 400, "glance_body": secret])
        // The fake server itself plays Glance (its port is only known now).
        let environment = Self.environment(keystone.url + "/v3", specifics: ["imageEndpoint": .string(keystone.url + "/glance")])
        let health = await (try Self.adapter(environment)).health()
        #expect(health.status == .unhealthy)
        #expect(health.message?.contains("HTTP 400") == true, "\(health.message ?? "")")
        #expect(health.message?.contains("TOP-SECRET") == false, "\(health.message ?? "")")
    }

    @Test func usersCannotPointAnEnvironmentAtThisHost() async throws {
        let keystone = try await FakeKeystone([:])
        let fixture = try await RegistryFixture()
        fixture.registry.catalog.register(OpenStackAdapter.self)
        let mallory = try await fixture.user("mallory")
        for location in [keystone.url + "/v3", "http://localhost:\(keystone.port)/v3", "http://[::1]:5000/v3", "http://169.254.169.254/v3"] {
            await #expect(throws: ViceError.self, "\(location)") {
                _ = try await fixture.registry.createEnvironment(Self.environment(location), owner: mallory)
            }
        }
    }
}
