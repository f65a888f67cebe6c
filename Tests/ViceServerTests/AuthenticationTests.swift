import Foundation
import Hummingbird
import Testing
import ViceServer
import ViceTestSupport
import ViceCore

@Suite struct AuthenticationTests {
    @Test func everyProtectedOperationAnswers401WithoutOrWithWrongCredentials() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            for route in APIRoute.all where !route.isPublic {
                // Every path parameter ({environmentId}, {imageId}, {tokenId}, …) becomes "x".
                let uri = route.path.replacingOccurrences(of: #"\{[A-Za-z]+\}"#, with: "x", options: .regularExpression)
                let body = route.method == .post || route.method == .put ? "{}" : nil
                let anonymous = try await api.send(route.method, uri, json: body)
                expectError(anonymous, 401, kind: "unauthorized")
                #expect(anonymous.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true, "\(route.operationId)")
                let wrong = try await api.send(route.method, uri, as: "alice", password: "not-her-password", json: body)
                expectError(wrong, 401, kind: "unauthorized")
                let unknown = try await api.send(route.method, uri, as: "mallory", password: "whatever-password", json: body)
                expectError(unknown, 401, kind: "unauthorized")
                let garbage = try await api.send(route.method, uri, json: body, headers: [.authorization: "Basic !!!"])
                expectError(garbage, 401)
            }
        }
    }

    @Test func theUserEndpointShowsTheCallerWithoutAnyPassword() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let me = try await api.send(.get, "/v1/user", as: "bob")
            #expect(me.status == 200)
            #expect(me.string("username") == "bob")
            #expect(me.string("id") == harness.bob.id)
            #expect(me.object["password"] == nil)
            #expect(!me.text.contains("$2"))
        }
    }

    @Test func withRegistrationClosedOnlyAdminsCreateUsers() async throws {
        let harness = try await APIHarness.make(openRegistration: false)
        try await harness.run { api in
            expectError(try await api.send(.post, "/v1/user", json: SeedExamples.user), 401)
            expectError(try await api.send(.post, "/v1/user", json: "not json"), 401)
            expectError(try await api.send(.post, "/v1/user", as: "bob", json: SeedExamples.user), 403, kind: "forbidden")
            let created = try await api.send(.post, "/v1/user", as: "alice", json: SeedExamples.user)
            #expect(created.status == 200)  // the spec's code for POST /user
            #expect(created.string("username") == "aeiou")
            #expect(created.string("id") != "aeiou")
            #expect(created.object["password"] == nil)
            expectError(try await api.send(.post, "/v1/user", as: "alice", json: SeedExamples.user), 409, kind: "conflict")
            // The new user can log in with the password it was given.
            let login = try await api.send(.get, "/v1/user", as: "aeiou", password: "aeiou-long-enough")
            #expect(login.status == 200)
        }
    }

    @Test func openRegistrationNeedsNoCredentialsButGrantsNoAdminRights() async throws {
        let harness = try await APIHarness.make(openRegistration: true)
        try await harness.run { api in
            let created = try await api.send(.post, "/v1/user", json: """
                {"username": "dave", "password": "dave-password", "email": "dave@example.org", "admin": true}
                """)
            #expect(created.status == 200)
            #expect(created.object["admin"] as? Bool == false)
            expectError(try await api.send(.post, "/v1/user", json: #"{"username": "eve", "password": "short"}"#), 405,
                        kind: "invalidInput", mentioning: "at least 8")
            expectError(try await api.send(.post, "/v1/user", json: #"{"username": "bad name!", "password": "long-enough"}"#), 405)
            expectError(try await api.send(.post, "/v1/user", json: #"{"password": "long-enough"}"#), 405, mentioning: "username")
            expectError(try await api.send(.post, "/v1/user", json: #"{"username": 5}"#), 405, mentioning: "username")
            // Credentials that are sent are checked even here.
            expectError(try await api.send(.post, "/v1/user", as: "alice", password: "wrong-password",
                                           json: #"{"username": "frank", "password": "long-enough"}"#), 401)
        }
    }

    @Test func unknownRoutesAnswerAJSON404() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            expectError(try await api.send(.get, "/v1/nothing-here", as: "alice"), 404, kind: "notFound")
            expectError(try await api.send(.get, "/v2/images", as: "alice"), 404)
        }
    }
}
