import Foundation
import Testing
import ViceTestSupport
import ViceCore
import HTTPTypes

@Suite struct EnvironmentAPITests {
    @Test func theSeedExampleCreatesAnEnvironmentWithServerAssignedIds() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let created = try await api.send(.post, "/v1/environments", as: "alice", json: SeedExamples.environment)
            #expect(created.status == 201)
            let id = try #require(created.string("id"))
            #expect(id != "aeiou" && id.count == 20)
            #expect(created.string("userid") == harness.alice.id)
            #expect(created.string("title") == "aeiou")
            let credentials = created.object["credentials"] as? [String: Any]
            #expect(credentials?["password"] == nil)
            #expect(credentials?["username"] as? String == "aeiou")
            #expect(credentials?["specifics"] as? [String: Any] != nil)  // "{}" became an object
            #expect((created.object["managementlayer"] as? [String: Any])?["type"] as? String == "basic")

            let fetched = try await api.send(.get, "/v1/environment/\(id)", as: "alice")
            #expect(fetched.status == 200)
            #expect(fetched.string("id") == id)
            let listed = try await api.send(.get, "/v1/environments", as: "alice")
            #expect(listed.status == 200)
            #expect(listed.array.compactMap { $0["id"] as? String } == [id])
        }
    }

    @Test func updatesMergeFieldsAndKeepTheStoredPassword() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let created = try await api.send(.post, "/v1/environments", as: "alice", json: memoryEnvironmentJSON(cloud: "c"))
            let id = try #require(created.string("id"))
            let updated = try await api.send(.put, "/v1/environments", as: "alice", json: """
                {"id": "\(id)", "title": "renamed", "credentials": {"location": "c2", "username": "tester"}}
                """)
            #expect(updated.status == 201)  // the spec's code for PUT
            #expect(updated.string("title") == "renamed")
            #expect((updated.object["managementlayer"] as? [String: Any])?["software"] as? String == "memory")
            #expect((updated.object["credentials"] as? [String: Any])?["location"] as? String == "c2")
            let stored = try await harness.fixture.registry.unsealedCredentialsForTesting(environmentID: id)
            #expect(stored?.password == "cloud-secret")

            expectError(try await api.send(.put, "/v1/environments", as: "alice", json: #"{"id": "unknownid", "title": "x"}"#),
                        404, kind: "notFound")
            expectError(try await api.send(.put, "/v1/environments", as: "alice", json: #"{"title": "no id"}"#), 405,
                        mentioning: "id is required")
        }
    }

    @Test func invalidInputIs405WithAMessageNamingTheProblem() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            expectError(try await api.send(.post, "/v1/environments", as: "alice", json: "{not json"), 405, kind: "invalidInput",
                        mentioning: "not valid JSON")
            expectError(try await api.send(.post, "/v1/environments", as: "alice", json: #"{"title": 5, "managementlayer": {"software": "memory"}}"#),
                        405, mentioning: "title")
            expectError(try await api.send(.post, "/v1/environments", as: "alice",
                                           json: #"{"managementlayer": {"software": "memory", "type": "mainframe"}}"#),
                        405, mentioning: "cloudcomputing")
            expectError(try await api.send(.post, "/v1/environments", as: "alice", json: #"{"title": "no layer"}"#), 405,
                        mentioning: "managementlayer.software is required")
            expectError(try await api.send(.post, "/v1/environments", as: "alice", json: "[]"), 405)
            expectError(try await api.send(.post, "/v1/environments", as: "alice"), 405, mentioning: "body is required")
            let long = String(repeating: "x", count: 300)
            expectError(try await api.send(.post, "/v1/environments", as: "alice",
                                           json: #"{"title": "\#(long)", "managementlayer": {"software": "memory"}}"#), 405)
        }
    }

    @Test func unknownIdsAre404AndDeletedEnvironmentsAreGone() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            expectError(try await api.send(.get, "/v1/environment/doesnotexist", as: "alice"), 404, kind: "notFound")
            expectError(try await api.send(.delete, "/v1/environment/doesnotexist", as: "alice"), 404)
            expectError(try await api.send(.get, "/v1/environment/..%2F..", as: "alice"), 404)
            let created = try await api.send(.post, "/v1/environments", as: "alice", json: memoryEnvironmentJSON(cloud: "c"))
            let id = try #require(created.string("id"))
            let deleted = try await api.send(.delete, "/v1/environment/\(id)", as: "alice")
            #expect(deleted.status == 200)
            expectError(try await api.send(.get, "/v1/environment/\(id)", as: "alice"), 404)
        }
    }

    @Test func filtersMatchTypeOrSoftwareCaseInsensitively() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let openstack = try await api.send(.post, "/v1/environments", as: "alice", json: """
                {"title": "cloud", "managementlayer": {"type": "cloudcomputing", "software": "OpenStack"},
                 "runtimetechnology": {"type": "virtualmachine", "software": "KVM"}}
                """)
            let docker = try await api.send(.post, "/v1/environments", as: "alice", json: """
                {"title": "engine", "managementlayer": {"type": "basic", "software": "docker"},
                 "runtimetechnology": {"type": "container", "software": "docker"}}
                """)
            let os = try #require(openstack.string("id"))
            let dk = try #require(docker.string("id"))
            func ids(_ query: String) async throws -> [String] {
                let response = try await api.send(.get, "/v1/environments\(query)", as: "alice")
                #expect(response.status == 200)
                return response.array.compactMap { $0["id"] as? String }
            }
            #expect(try await ids("") == [os, dk])
            #expect(try await ids("?filterManagementlayer=openstack") == [os])
            #expect(try await ids("?filterManagementlayer=CLOUDCOMPUTING") == [os])
            #expect(try await ids("?filterManagementlayer=docker") == [dk])
            #expect(try await ids("?filterRuntimetechnology=kvm") == [os])
            #expect(try await ids("?filterRuntimetechnology=container") == [dk])
            #expect(try await ids("?filterManagementlayer=docker&filterRuntimetechnology=virtualmachine") == [])
            #expect(try await ids("?filterManagementlayer=bwlehrpool") == [])
        }
    }
}
