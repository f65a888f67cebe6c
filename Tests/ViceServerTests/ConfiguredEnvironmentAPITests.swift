import Foundation
import Testing
import ViceAdapterTesting
import ViceCore
import ViceInMemory
import ViceTestSupport
import HTTPTypes

/// Environments declared in the configuration, as REST callers see them.
@Suite struct ConfiguredEnvironmentAPITests {
    static func configured(_ id: String, cloud: String, users: Set<String>?) -> ConfiguredEnvironment {
        ConfiguredEnvironment(
            environment: Environment(id: id, title: "Configured \(id)",
                                     credentials: Credentials(location: cloud, username: "operator", password: "operator-secret-\(id)"),
                                     runtimetechnology: RuntimeTechnology(type: .virtualmachine, software: "kvm"),
                                     managementlayer: ManagementLayer(type: .cloudcomputing, software: "memory")),
            users: users, source: "environments.d/test.yaml")
    }

    @Test func theyAreListedForTheUsersAllowedWithoutCredentialsAndAreReadOnly() async throws {
        let harness = try await APIHarness.make()
        harness.fixture.registry.replaceConfiguredEnvironments([
            Self.configured("shared-cloud", cloud: "c-\(UUID())", users: nil),
            Self.configured("bobs-cloud", cloud: "c-\(UUID())", users: ["bob"]),
        ])
        try await harness.run { api in
            let forBob = try await api.send(.get, "/v1/environments", as: "bob")
            #expect(Set(forBob.array.compactMap { $0["id"] as? String }) == ["shared-cloud", "bobs-cloud"])
            #expect(forBob.array.allSatisfy { $0["readOnly"] as? Bool == true })
            let forAlice = try await api.send(.get, "/v1/environments", as: "alice")
            #expect(forAlice.array.compactMap { $0["id"] as? String } == ["shared-cloud"])
            #expect(try await api.send(.get, "/v1/environments?filterManagementlayer=cloudcomputing", as: "alice").array.count == 1)
            #expect(try await api.send(.get, "/v1/environments?filterManagementlayer=docker", as: "alice").array.isEmpty)

            let one = try await api.send(.get, "/v1/environment/bobs-cloud", as: "bob")
            #expect(one.status == 200 && one.string("title") == "Configured bobs-cloud")
            #expect((one.object["credentials"] as? [String: Any])?["username"] as? String == "operator")
            #expect(!one.text.contains("operator-secret"))
            expectError(try await api.send(.get, "/v1/environment/bobs-cloud", as: "alice"), 404)

            expectError(try await api.send(.delete, "/v1/environment/shared-cloud", as: "alice"), 405,
                        mentioning: "declared in the configuration (environments.d/test.yaml)")
            expectError(try await api.send(.put, "/v1/environments", as: "bob", json: #"{"id": "bobs-cloud", "title": "mine now"}"#), 405)
            expectError(try await api.send(.put, "/v1/environments", as: "alice", json: #"{"id": "bobs-cloud", "title": "x"}"#), 404)
            #expect(try await api.send(.get, "/v1/environment/shared-cloud", as: "bob").string("title") == "Configured shared-cloud")
            #expect(!api.allResponseBodies.contains { $0.contains("operator-secret") })
        }
    }

    @Test func imagesComeFromThemAndGoToThemLikeAnyOther() async throws {
        let harness = try await APIHarness.make()
        let source = "configured-source-\(UUID())"
        let target = "configured-target-\(UUID())"
        // The clouds insist on the configured password: the adapter gets the real credentials.
        InMemoryCloud.named(source, owner: "bob").requirePassword("operator-secret-source")
        InMemoryCloud.named(target, owner: "bob").requirePassword("operator-secret-target")
        harness.fixture.registry.replaceConfiguredEnvironments([
            Self.configured("source", cloud: source, users: ["bob"]),
            Self.configured("target", cloud: target, users: nil),
        ])
        harness.fixture.startWorkers()
        try await harness.run { api in
            #expect(try await api.send(.get, "/v1/environment/source/health", as: "bob").string("status") == "healthy")
            #expect(try await api.send(.get, "/v1/environment/source/images", as: "bob").array.contains { $0["reference"] as? String == "sample-raw" })
            expectError(try await api.send(.post, "/v1/images", as: "alice",
                                           json: #"{"originEnvironment": "source", "environmentReference": "sample-raw"}"#), 405)
            let image = try #require(try await api.send(.post, "/v1/images", as: "bob",
                                                        json: #"{"originEnvironment": "source", "environmentReference": "sample-raw"}"#).string("id"))
            #expect(try await eventually { try await api.send(.get, "/v1/image/\(image)", as: "bob").string("status") == "active" })
            let deployment = try #require(try await api.send(.post, "/v1/deploy", as: "bob",
                                                             json: #"{"imageid": "\#(image)", "environmentId": "target"}"#).string("id"))
            var deployed = Exchange(status: 0, headers: [:], body: Data())
            #expect(try await eventually {
                deployed = try await api.send(.get, "/v1/deployment/\(deployment)", as: "bob")
                return deployed.string("status") == "deployed"
            })
            let reference = try #require(deployed.string("environmentReference"))
            #expect(InMemoryCloud.named(target, owner: "bob").image(reference) != nil)

            // After a reload without the target, a new deployment to it is refused.
            harness.fixture.registry.replaceConfiguredEnvironments([Self.configured("source", cloud: source, users: ["bob"])])
            expectError(try await api.send(.post, "/v1/deploy", as: "bob", json: #"{"imageid": "\#(image)", "environmentId": "target"}"#), 405)
            #expect(try await api.send(.get, "/v1/environments", as: "bob").array.compactMap { $0["id"] as? String } == ["source"])
        }
        await harness.fixture.stopWorkers()
    }
}
