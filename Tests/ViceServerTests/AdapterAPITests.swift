import Foundation
import Testing
import ViceAdapterTesting
import ViceInMemory
import ViceTestSupport
import HTTPTypes

@Suite struct AdapterAPITests {
    @Test func theAdapterCatalogIsListedWithCapabilities() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let adapters = try await api.send(.get, "/v1/adapters", as: "bob")
            #expect(adapters.status == 200)
            let kinds = adapters.array.compactMap { $0["kind"] as? String }
            #expect(kinds == ["containers-only", "memory"])
            let limited = adapters.array.first { $0["kind"] as? String == "containers-only" }
            let capabilities = limited?["capabilities"] as? [String: Any]
            #expect(capabilities?["deploys"] as? [String] == ["docker-file", "docker-image"])
            #expect(capabilities?["imports"] as? [String] == ["docker-image"])
            expectError(try await api.send(.get, "/v1/adapters"), 401)
        }
    }

    @Test func environmentsReportTheirHealthAsAValue() async throws {
        let harness = try await APIHarness.make()
        let cloud = "health-\(UUID())"
        InMemoryCloud.named(cloud, owner: "alice").requirePassword("right-password")
        try await harness.run { api in
            let good = try #require(try await api.send(.post, "/v1/environments", as: "alice",
                                                       json: memoryEnvironmentJSON(cloud: cloud, password: "right-password")).string("id"))
            let bad = try #require(try await api.send(.post, "/v1/environments", as: "alice",
                                                      json: memoryEnvironmentJSON(cloud: cloud, password: "wrong-password")).string("id"))
            let unknown = try #require(try await api.send(.post, "/v1/environments", as: "alice",
                                                          json: #"{"managementlayer": {"software": "mainframe"}}"#).string("id"))
            let healthy = try await api.send(.get, "/v1/environment/\(good)/health", as: "alice")
            #expect(healthy.status == 200 && healthy.string("status") == "healthy")
            let refused = try await api.send(.get, "/v1/environment/\(bad)/health", as: "alice")
            #expect(refused.status == 200 && refused.string("status") == "unhealthy")
            #expect(refused.string("message")?.contains("refused the credentials") == true)
            let none = try await api.send(.get, "/v1/environment/\(unknown)/health", as: "alice")
            #expect(none.string("status") == "unhealthy")
            #expect(none.string("message")?.contains("no adapter is registered") == true)
            expectError(try await api.send(.get, "/v1/environment/\(good)/health", as: "bob"), 404)
            expectError(try await api.send(.get, "/v1/environment/nosuchenv/health", as: "alice"), 404)
        }
    }

    @Test func environmentsListWhatCanBeImported() async throws {
        let harness = try await APIHarness.make()
        let cloud = "list-\(UUID())"
        try await harness.run { api in
            let good = try #require(try await api.send(.post, "/v1/environments", as: "alice",
                                                       json: memoryEnvironmentJSON(cloud: cloud)).string("id"))
            let listed = try await api.send(.get, "/v1/environment/\(good)/images", as: "alice")
            #expect(listed.status == 200)
            #expect(listed.array.compactMap { $0["reference"] as? String } == ["sample-dockerfile", "sample-qcow2", "sample-raw"])
            #expect(listed.array.first { $0["reference"] as? String == "sample-raw" }?["size"] as? Int == 1 << 20)

            InMemoryCloud.named(cloud, owner: "alice").requirePassword("something-else")
            expectError(try await api.send(.get, "/v1/environment/\(good)/images", as: "alice"), 502, kind: "badGateway",
                        mentioning: "refused the credentials")
            let unknown = try #require(try await api.send(.post, "/v1/environments", as: "alice",
                                                          json: #"{"managementlayer": {"software": "mainframe"}}"#).string("id"))
            expectError(try await api.send(.get, "/v1/environment/\(unknown)/images", as: "alice"), 405, mentioning: "no adapter")
            expectError(try await api.send(.get, "/v1/environment/\(good)/images", as: "bob"), 404)
        }
    }
}
