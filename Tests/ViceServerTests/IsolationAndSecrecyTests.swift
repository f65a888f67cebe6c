import Foundation
import Testing
import ViceAdapterTesting
import ViceCore
import ViceInMemory
import ViceTestSupport
import HTTPTypes

@Suite struct IsolationAndSecrecyTests {
    @Test func usersSeeAndChangeOnlyTheirOwnRecords() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let environment = try #require(try await api.send(.post, "/v1/environments", as: "alice",
                                                              json: memoryEnvironmentJSON(cloud: "c")).string("id"))
            let image = try #require(try await api.send(.post, "/v1/images", as: "alice", json: #"{"contenttype": "disk-raw"}"#).string("id"))
            let deployment = try #require(try await api.send(.post, "/v1/deploy", as: "alice",
                                                             json: #"{"imageid": "\#(image)", "environmentId": "\#(environment)"}"#).string("id"))
            // Bob sees none of it: lists are empty and ids answer 404, as if they did not exist.
            for path in ["/v1/environments", "/v1/images", "/v1/deployments"] {
                let list = try await api.send(.get, path, as: "bob")
                #expect(list.status == 200 && list.array.isEmpty, "\(path)")
            }
            expectError(try await api.send(.get, "/v1/environment/\(environment)", as: "bob"), 404)
            expectError(try await api.send(.delete, "/v1/environment/\(environment)", as: "bob"), 404)
            expectError(try await api.send(.put, "/v1/environments", as: "bob", json: #"{"id": "\#(environment)", "title": "mine"}"#), 404)
            expectError(try await api.send(.get, "/v1/image/\(image)", as: "bob"), 404)
            expectError(try await api.send(.delete, "/v1/image/\(image)", as: "bob"), 404)
            expectError(try await api.send(.put, "/v1/images", as: "bob", json: #"{"id": "\#(image)", "title": "mine"}"#), 404)
            expectError(try await api.send(.get, "/v1/deployment/\(deployment)", as: "bob"), 404)
            expectError(try await api.send(.delete, "/v1/deployment/\(deployment)", as: "bob"), 404)
            // Nor can he use alice's things in his own requests.
            let bobsEnvironment = try #require(try await api.send(.post, "/v1/environments", as: "bob",
                                                                  json: memoryEnvironmentJSON(cloud: "b")).string("id"))
            expectError(try await api.send(.post, "/v1/deploy", as: "bob",
                                           json: #"{"imageid": "\#(image)", "environmentId": "\#(bobsEnvironment)"}"#), 405)
            let bobsImage = try #require(try await api.send(.post, "/v1/images", as: "bob", json: #"{"contenttype": "disk-raw"}"#).string("id"))
            expectError(try await api.send(.post, "/v1/deploy", as: "bob",
                                           json: #"{"imageid": "\#(bobsImage)", "environmentId": "\#(environment)"}"#), 405)
            expectError(try await api.send(.post, "/v1/images", as: "bob",
                                           json: #"{"originEnvironment": "\#(environment)", "environmentReference": "sample-raw"}"#), 405)
            // Alice's records are untouched.
            #expect(try await api.send(.get, "/v1/environment/\(environment)", as: "alice").string("title") == "memory")
            #expect(try await api.send(.get, "/v1/image/\(image)", as: "alice").status == 200)
            #expect(try await api.send(.get, "/v1/deployment/\(deployment)", as: "alice").string("status") == "queued")
        }
    }

    @Test func noPasswordOrHashEverAppearsInAResponse() async throws {
        let harness = try await APIHarness.make(openRegistration: true)
        let cloudPassword = "cloud-password-\(UUID().uuidString)"
        let userPassword = "user-password-\(UUID().uuidString.prefix(8))"
        try await harness.run { api in
            _ = try await api.send(.post, "/v1/user", json: #"{"username": "carol", "password": "\#(userPassword)"}"#)
            _ = try await api.send(.get, "/v1/user", as: "carol", password: userPassword)
            let environment = try #require(try await api.send(.post, "/v1/environments", as: "alice",
                                                              json: memoryEnvironmentJSON(cloud: "c", password: cloudPassword)).string("id"))
            _ = try await api.send(.put, "/v1/environments", as: "alice",
                                   json: #"{"id": "\#(environment)", "credentials": {"password": "\#(cloudPassword)-2"}}"#)
            _ = try await api.send(.get, "/v1/environment/\(environment)", as: "alice")
            _ = try await api.send(.get, "/v1/environments", as: "alice")
            let inline = memoryEnvironmentJSON(cloud: "c", password: cloudPassword + "-inline")
            let image = try #require(try await api.send(.post, "/v1/images", as: "alice",
                                                        json: #"{"originEnvironment": \#(inline), "environmentReference": "sample-raw"}"#).string("id"))
            _ = try await api.send(.post, "/v1/images", as: "alice",
                                   json: #"{"originEnvironment": "\#(environment)", "environmentReference": "sample-raw"}"#)
            _ = try await api.send(.get, "/v1/image/\(image)", as: "alice")
            _ = try await api.send(.get, "/v1/images", as: "alice")
            _ = try await api.send(.put, "/v1/images", as: "alice", json: #"{"id": "\#(image)"}"#)
            _ = try await api.send(.get, "/v1/user", as: "alice")
            let bodies = api.allResponseBodies
            #expect(bodies.count >= 12)
            for body in bodies {
                #expect(!body.contains(cloudPassword), "\(body)")
                #expect(!body.contains(userPassword), "\(body)")
                #expect(!body.contains(RegistryFixture.password(of: "alice")), "\(body)")
                #expect(!body.contains("\"password\""), "\(body)")
                #expect(!body.contains("$2b$") && !body.contains("$2a$") && !body.contains("$2y$"), "\(body)")
            }
        }
    }

    @Test func theWholeCycleRunsThroughTheAPI() async throws {
        let harness = try await APIHarness.make()
        harness.fixture.startWorkers()
        let targetCloud = "target-\(UUID())"
        try await harness.run { api in
            let source = try #require(try await api.send(.post, "/v1/environments", as: "alice",
                                                         json: memoryEnvironmentJSON(cloud: "source-\(UUID())")).string("id"))
            let target = try #require(try await api.send(.post, "/v1/environments", as: "alice",
                                                         json: memoryEnvironmentJSON(cloud: targetCloud)).string("id"))
            let image = try #require(try await api.send(.post, "/v1/images", as: "alice", json: """
                {"title": "qcow2 sample", "originEnvironment": "\(source)", "environmentReference": "sample-qcow2"}
                """).string("id"))
            var stored = Exchange(status: 0, headers: [:], body: Data())
            #expect(try await eventually {
                stored = try await api.send(.get, "/v1/image/\(image)", as: "alice")
                return stored.string("status") == "active"
            })
            #expect(stored.object["imported"] as? Bool == true)
            #expect(stored.string("contenttype") == "disk-qcow2")
            #expect(stored.object["size"] as? Int == InMemoryCloud.named("x", owner: "alice").image("sample-qcow2")?.bytes.count)
            #expect(stored.string("checksum")?.count == 71)
            #expect(try await api.send(.get, "/v1/images?status=active", as: "alice").array.count == 1)

            let deployment = try #require(try await api.send(.post, "/v1/deploy", as: "alice",
                                                             json: #"{"imageid": "\#(image)", "environmentId": "\#(target)"}"#).string("id"))
            var deployed = Exchange(status: 0, headers: [:], body: Data())
            #expect(try await eventually {
                deployed = try await api.send(.get, "/v1/deployment/\(deployment)", as: "alice")
                return deployed.string("status") == "deployed"
            })
            let reference = try #require(deployed.string("environmentReference"))
            #expect(InMemoryCloud.named(targetCloud, owner: "alice").image(reference) != nil)

            #expect(try await api.send(.delete, "/v1/deployment/\(deployment)", as: "alice").string("status") == "removing")
            #expect(try await eventually { try await api.send(.get, "/v1/deployment/\(deployment)", as: "alice").status == 404 })
            #expect(InMemoryCloud.named(targetCloud, owner: "alice").image(reference) == nil)
            let stats = try await api.send(.get, "/v1/runtimestats", as: "alice")
            #expect(stats.object["importWorker"] as? Int == 2)
            #expect(stats.object["exportWorker"] as? Int == 2)
            #expect(stats.object["importsPending"] as? Int == 0 && stats.object["exportsPending"] as? Int == 0)
        }
        await harness.fixture.stopWorkers()
    }
}
