import Foundation
import Hummingbird
import Testing
import ViceCore
@testable import ViceServer
import ViceTestSupport

/// A known path asked with a method it does not have answers 405 with `Allow`; OPTIONS says
/// which methods there are; unknown paths stay 404.
@Suite struct MethodCheckTests {
    @Test func anUnsupportedMethodOnAKnownPathIs405WithAllow() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            for method in [HTTPRequest.Method("PATCH")!, HTTPRequest.Method("TRACE")!, .delete] {
                let answer = try await api.send(method, "/v1/images", as: "bob")
                expectError(answer, 405, kind: "methodNotAllowed", mentioning: "/v1/images")
                #expect(answer.headers[.allow] == "POST, GET, HEAD, PUT, OPTIONS", "\(method)")
            }
            // Before credentials are looked at: the methods are public in the OpenAPI document.
            let anonymous = try await api.send(.put, "/v1/image/abc")
            expectError(anonymous, 405, kind: "methodNotAllowed")
            #expect(anonymous.headers[.allow] == "GET, HEAD, DELETE, OPTIONS")
            // Path parameters are matched like the router does.
            let file = try await api.send(.put, "/v1/image/abc/file", as: "bob")
            #expect(file.status == 405 && file.headers[.allow] == "POST, GET, HEAD, OPTIONS")
        }
    }

    @Test func optionsSaysWhichMethodsAPathTakes() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let answer = try await api.send(.options, "/v1/deployment/xyz")
            #expect(answer.status == 204)
            #expect(answer.headers[.allow] == "GET, HEAD, DELETE, OPTIONS")
        }
    }

    @Test func aLiteralSegmentIsNotTakenForAPathParameter() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            // /v1/user/tokens is its own path, not /v1/user/{userId} with the id "tokens".
            let options = try await api.send(.options, "/v1/user/tokens")
            #expect(options.status == 204 && options.headers[.allow] == "POST, GET, HEAD, OPTIONS")
            let put = try await api.send(.put, "/v1/user/tokens", as: "alice", json: "{}")
            expectError(put, 405, kind: "methodNotAllowed")
            #expect(put.headers[.allow] == "POST, GET, HEAD, OPTIONS")
            #expect(try await api.send(.options, "/v1/jobs/abc/retry").headers[.allow] == "POST, OPTIONS")
        }
    }

    @Test func aQueryParameterGivenTwiceIsRefused() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            expectError(try await api.send(.get, "/v1/images?limit=1&limit=abc", as: "bob"), 405, mentioning: "'limit' is given more than once")
            #expect(try await api.send(.get, "/v1/images?limit=1&marker=", as: "bob").status == 200)
        }
    }

    @Test func knownMethodsStillWorkAndUnknownPathsStay404() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            #expect(try await api.send(.get, "/v1/images", as: "bob").status == 200)
            expectError(try await api.send(.get, "/v1/nothing-here", as: "bob"), 404)
            expectError(try await api.send(HTTPRequest.Method("PATCH")!, "/v1/nothing-here", as: "bob"), 404)
        }
    }
}

@Suite struct HeadRequestTests {
    @Test func headIsAnsweredWhereGetIs() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let answer = try await api.send(.head, "/v1/openapi.json")
            #expect(answer.status == 200, "\(answer.status) \(answer.text)")
            #expect(answer.body.isEmpty)
        }
    }
}
