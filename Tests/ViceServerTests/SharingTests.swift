import Foundation
import Testing
import ViceAdapterTesting
import ViceCore
import ViceInMemory
import ViceTestSupport
import HTTPTypes

/// Images shared with named users or with everyone: members find, read, download and deploy them
/// into their own environments; only the owner (or an admin) changes or deletes them.
@Suite struct SharingTests {
    @Test func aSharedImageIsDeployedByAMemberIntoTheMembersOwnEnvironment() async throws {
        let harness = try await APIHarness.make()
        _ = try await harness.fixture.user("carol")
        _ = try await harness.fixture.user("dave")
        harness.fixture.startWorkers()
        let carolsCloud = "carol-\(UUID())"
        try await harness.run { api in
            let source = try #require(try await api.send(.post, "/v1/environments", as: "bob", json: memoryEnvironmentJSON(cloud: "src-\(UUID())")).string("id"))
            let image = try #require(try await api.send(.post, "/v1/images", as: "bob", json: """
                {"title": "course image", "originEnvironment": "\(source)", "environmentReference": "sample-raw",
                 "visibility": "shared", "members": ["carol"]}
                """).string("id"))
            #expect(try await eventually { try await api.send(.get, "/v1/image/\(image)", as: "bob").string("status") == "active" })

            // carol finds it, reads it (without bob's origin or member list) and downloads it.
            let found = try await api.send(.get, "/v1/images", as: "carol").array
            #expect(found.map { $0["id"] as? String } == [image])
            let seen = try await api.send(.get, "/v1/image/\(image)", as: "carol")
            #expect(seen.status == 200 && seen.object["originEnvironment"] == nil && seen.object["members"] == nil)
            #expect(try await api.send(.get, "/v1/image/\(image)/file", as: "carol").body.count == InMemoryCloud.named("x", owner: "bob").image("sample-raw")?.bytes.count)
            // … and deploys it into her own environment.
            let target = try #require(try await api.send(.post, "/v1/environments", as: "carol", json: memoryEnvironmentJSON(cloud: carolsCloud)).string("id"))
            let deployment = try #require(try await api.send(.post, "/v1/deploy", as: "carol",
                                                             json: #"{"imageid": "\#(image)", "environmentId": "\#(target)"}"#).string("id"))
            var deployed = Exchange(status: 0, headers: [:], body: Data())
            #expect(try await eventually {
                deployed = try await api.send(.get, "/v1/deployment/\(deployment)", as: "carol")
                return deployed.string("status") == "deployed"
            }, "\(deployed.text)")
            let reference = try #require(deployed.string("environmentReference"))
            #expect(InMemoryCloud.named(carolsCloud, owner: "carol").image(reference) != nil)
            // Not into bob's environment, and she cannot change or delete the image.
            expectError(try await api.send(.post, "/v1/deploy", as: "carol", json: #"{"imageid": "\#(image)", "environmentId": "\#(source)"}"#), 405)
            expectError(try await api.send(.delete, "/v1/image/\(image)", as: "carol"), 404)
            expectError(try await api.send(.put, "/v1/images", as: "carol", json: #"{"id": "\#(image)", "title": "mine"}"#), 404)
            // dave is no member: 404 everywhere, and nothing in his list.
            expectError(try await api.send(.get, "/v1/image/\(image)", as: "dave"), 404)
            expectError(try await api.send(.get, "/v1/image/\(image)/file", as: "dave"), 404)
            #expect(try await api.send(.get, "/v1/images", as: "dave").array.isEmpty)
            let davesTarget = try #require(try await api.send(.post, "/v1/environments", as: "dave", json: memoryEnvironmentJSON(cloud: "d-\(UUID())")).string("id"))
            expectError(try await api.send(.post, "/v1/deploy", as: "dave", json: #"{"imageid": "\#(image)", "environmentId": "\#(davesTarget)"}"#), 405)

            // Public: everyone sees it; the owner's filters work.
            #expect(try await api.send(.put, "/v1/images", as: "bob", json: #"{"id": "\#(image)", "visibility": "public"}"#).status == 201)
            #expect(try await api.send(.get, "/v1/images?visibility=public", as: "dave").array.count == 1)
            #expect(try await api.send(.get, "/v1/images?owner=bob", as: "dave").array.count == 1)
            #expect(try await api.send(.get, "/v1/images?owner=carol", as: "dave").array.isEmpty)
            // Back to private: a queued deployment by a former member fails when it runs.
            #expect(try await api.send(.put, "/v1/images", as: "bob", json: #"{"id": "\#(image)", "visibility": "private"}"#).status == 201)
            expectError(try await api.send(.get, "/v1/image/\(image)", as: "carol"), 404)
        }
        await harness.fixture.stopWorkers()
    }

    @Test func aSharedEnvironmentIsUsedByMembersWithoutSeeingItsCredentials() async throws {
        let harness = try await APIHarness.make()
        _ = try await harness.fixture.user("carol")
        harness.fixture.startWorkers()
        try await harness.run { api in
            let lab = try #require(try await api.send(.post, "/v1/environments", as: "bob", json: """
                {"title": "lab", "managementlayer": {"software": "memory"}, "members": ["carol"],
                 "credentials": {"location": "lab-\(UUID())", "username": "bobs-account", "password": "bobs-cloud-password"}}
                """).string("id"))
            let listed = try await api.send(.get, "/v1/environments", as: "carol")
            #expect(listed.array.map { $0["id"] as? String } == [lab])
            let seen = try await api.send(.get, "/v1/environment/\(lab)", as: "carol")
            #expect(seen.status == 200 && seen.object["credentials"] == nil && seen.object["members"] == nil)
            #expect(!listed.text.contains("bobs-account") && !seen.text.contains("bobs-account"))
            #expect(try await api.send(.get, "/v1/environment/\(lab)/health", as: "carol").string("status") == "healthy")
            // carol imports from it; the image is hers.
            let image = try #require(try await api.send(.post, "/v1/images", as: "carol",
                                                        json: #"{"originEnvironment": "\#(lab)", "environmentReference": "sample-raw"}"#).string("id"))
            #expect(try await eventually { try await api.send(.get, "/v1/image/\(image)", as: "carol").string("status") == "active" })
            // Only the owner changes or deletes it.
            expectError(try await api.send(.put, "/v1/environments", as: "carol", json: #"{"id": "\#(lab)", "title": "mine"}"#), 404)
            expectError(try await api.send(.delete, "/v1/environment/\(lab)", as: "carol"), 404)
            // bob removes carol: she loses it at once.
            #expect(try await api.send(.put, "/v1/environments", as: "bob", json: #"{"id": "\#(lab)", "members": []}"#).status == 201)
            expectError(try await api.send(.get, "/v1/environment/\(lab)", as: "carol"), 404)
        }
        await harness.fixture.stopWorkers()
    }

    @Test func membersMustBeUserNames() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            expectError(try await api.send(.post, "/v1/images", as: "bob",
                                           json: #"{"contenttype": "disk-raw", "visibility": "shared", "members": ["not a name!"]}"#), 405)
            expectError(try await api.send(.post, "/v1/images", as: "bob", json: #"{"contenttype": "disk-raw", "visibility": "everyone"}"#), 405)
        }
    }
}
