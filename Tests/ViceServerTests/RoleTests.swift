import Foundation
import Testing
import ViceCore
import ViceTestSupport
import HTTPTypes

/// Roles: admins see and manage every user's records and the users themselves; readers only read.
@Suite struct RoleTests {
    @Test func adminsSeeAndManageEveryonesRecords() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let environment = try #require(try await api.send(.post, "/v1/environments", as: "bob", json: memoryEnvironmentJSON(cloud: "b-\(UUID())")).string("id"))
            let image = try #require(try await api.send(.post, "/v1/images", as: "bob", json: #"{"title": "bobs", "contenttype": "disk-raw"}"#).string("id"))
            // alice (admin) lists, reads, changes and deletes bob's records; carol (user) sees none of them.
            #expect(try await api.send(.get, "/v1/images", as: "alice").array.contains { $0["id"] as? String == image })
            #expect(try await api.send(.get, "/v1/environments", as: "alice").array.contains { $0["id"] as? String == environment })
            #expect(try await api.send(.get, "/v1/image/\(image)", as: "alice").string("title") == "bobs")
            #expect(try await api.send(.put, "/v1/images", as: "alice", json: #"{"id": "\#(image)", "title": "renamed"}"#).status == 201)
            #expect(try await api.send(.get, "/v1/image/\(image)", as: "bob").string("title") == "renamed")
            _ = try await harness.fixture.user("carol")
            #expect(try await api.send(.get, "/v1/images", as: "carol").array.isEmpty)
            expectError(try await api.send(.get, "/v1/image/\(image)", as: "carol"), 404)
            // The user list and deletion are for admins; a user who owns records is not deleted.
            #expect(try await api.send(.get, "/v1/users", as: "alice").array.compactMap { $0["username"] as? String }.contains("bob"))
            expectError(try await api.send(.get, "/v1/users", as: "bob"), 403)
            expectError(try await api.send(.delete, "/v1/user/\(harness.bob.id)", as: "carol"), 403)
            expectError(try await api.send(.delete, "/v1/user/\(harness.bob.id)", as: "alice"), 409, mentioning: "still owns 1 environments, 1 images")
            #expect(try await api.send(.delete, "/v1/image/\(image)", as: "alice").status == 200)
            #expect(try await api.send(.delete, "/v1/environment/\(environment)", as: "alice").status == 200)
            #expect(try await api.send(.delete, "/v1/user/\(harness.bob.id)", as: "alice").status == 200)
            expectError(try await api.send(.get, "/v1/user", as: "bob"), 401)
        }
    }

    @Test func adminsDisableUsersAndChangeTheirRoles() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let token = try #require(try await api.send(.post, "/v1/user/tokens", as: "bob", json: #"{"name": "ci", "scope": "deploy"}"#).string("token"))
            let disabled = try await api.send(.put, "/v1/user/\(harness.bob.id)", as: "alice", json: #"{"disabled": true}"#)
            #expect(disabled.status == 200 && disabled.object["disabled"] as? Bool == true, "\(disabled.text)")
            expectError(try await api.send(.get, "/v1/user", as: "bob"), 401)
            expectError(try await api.send(.get, "/v1/user", as: "bob", password: token), 401)
            #expect(try await api.send(.put, "/v1/user/\(harness.bob.id)", as: "alice", json: #"{"disabled": false, "role": "reader"}"#).status == 200)
            #expect(try await api.send(.get, "/v1/user", as: "bob").string("role") == "reader")
            expectError(try await api.send(.post, "/v1/images", as: "bob", json: #"{"contenttype": "disk-raw"}"#), 403)
            expectError(try await api.send(.put, "/v1/user/\(harness.alice.id)", as: "bob", json: #"{"role": "admin"}"#), 403)
            expectError(try await api.send(.put, "/v1/user/\(harness.alice.id)", as: "alice", json: #"{"disabled": true}"#), 405)
        }
    }

    @Test func anAdminResetsAPasswordButNoUserNameChanges() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let bob = harness.bob.id
            let reset = try await api.send(.put, "/v1/user/\(bob)", as: "alice", json: #"{"password": "a new password 1"}"#)
            #expect(reset.status == 200, "\(reset.text)")
            #expect(try await api.send(.get, "/v1/user", as: "bob").status == 401, "the old password stopped working")
            #expect(try await api.send(.get, "/v1/user", as: "bob", password: "a new password 1").status == 200)
            expectError(try await api.send(.put, "/v1/user/\(bob)", as: "alice", json: #"{"password": "short"}"#), 405, mentioning: "8 characters")
            expectError(try await api.send(.put, "/v1/user/\(bob)", as: "alice", json: #"{"username": "robert"}"#), 405, mentioning: "cannot be changed")
            expectError(try await api.send(.put, "/v1/user/\(bob)", as: "alice", json: #"{"email": "not-an-address"}"#), 405, mentioning: "email")
            // The record as GET answered it goes back unchanged.
            let record = try await api.send(.get, "/v1/users", as: "alice").array.first { $0["id"] as? String == bob } ?? [:]
            let body = String(decoding: try JSONSerialization.data(withJSONObject: record), as: UTF8.self)
            #expect(try await api.send(.put, "/v1/user/\(bob)", as: "alice", json: body).status == 200)
        }
    }

    @Test func readersOnlyRead() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let created = try await api.send(.post, "/v1/user", as: "alice",
                                             json: #"{"username": "rita", "password": "rita-password", "role": "reader"}"#)
            #expect(created.status == 200 && created.string("role") == "reader", "\(created.text)")
            #expect(try await api.send(.get, "/v1/images", as: "rita", password: "rita-password").status == 200)
            expectError(try await api.send(.post, "/v1/images", as: "rita", password: "rita-password", json: #"{"contenttype": "disk-raw"}"#),
                        403, mentioning: "scope is read")
            // Nor can a token of hers reach further.
            expectError(try await api.send(.post, "/v1/user/tokens", as: "rita", password: "rita-password", json: #"{"name": "x", "scope": "deploy"}"#), 403)
            // Only admins hand out roles.
            expectError(try await api.send(.post, "/v1/user", as: "bob", json: #"{"username": "ron", "password": "ron-password", "role": "reader"}"#), 403)
            #expect(try await api.send(.get, "/v1/user", as: "bob").string("role") == "user")
        }
    }
}

/// What GET answers for the records this change touched goes back through PUT, edited.
@Suite struct RoundTripTests {
    @Test func usersImagesAndEnvironmentsSurviveGetEditPut() async throws {
        let harness = try await APIHarness.make()
        _ = try await harness.fixture.user("carol")
        try await harness.run { api in
            // A user, as an admin reads it, with a new role.
            var bob = try #require(try await api.send(.get, "/v1/users", as: "alice").array.first { $0["username"] as? String == "bob" })
            bob["role"] = "reader"
            let put = try await api.send(.put, "/v1/user/\(harness.bob.id)", as: "alice",
                                         json: String(decoding: try JSONSerialization.data(withJSONObject: bob), as: UTF8.self))
            #expect(put.status == 200 && put.string("role") == "reader", "\(put.text)")

            // An image, shared.
            let id = try #require(try await api.send(.post, "/v1/images", as: "alice", json: #"{"title": "t", "contenttype": "disk-raw"}"#).string("id"))
            var image = try await api.send(.get, "/v1/image/\(id)", as: "alice").object
            image["visibility"] = "shared"
            image["members"] = ["carol"]
            let updated = try await api.send(.put, "/v1/images", as: "alice",
                                             json: String(decoding: try JSONSerialization.data(withJSONObject: image), as: UTF8.self))
            #expect(updated.status == 201, "\(updated.text)")
            #expect(try await api.send(.get, "/v1/image/\(id)", as: "carol").string("visibility") == "shared")

            // An environment, with a member.
            let env = try #require(try await api.send(.post, "/v1/environments", as: "alice", json: memoryEnvironmentJSON(cloud: "rt-\(UUID())")).string("id"))
            var environment = try await api.send(.get, "/v1/environment/\(env)", as: "alice").object
            environment["members"] = ["carol"]
            let changed = try await api.send(.put, "/v1/environments", as: "alice",
                                             json: String(decoding: try JSONSerialization.data(withJSONObject: environment), as: UTF8.self))
            #expect(changed.status == 201, "\(changed.text)")
            #expect(try await api.send(.get, "/v1/environment/\(env)", as: "carol").status == 200)
            #expect(try await api.send(.get, "/v1/environment/\(env)/health", as: "alice").string("status") == "healthy")
        }
    }
}
