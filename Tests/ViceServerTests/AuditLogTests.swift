import Foundation
import HTTPTypes
import Testing
import ViceCore
import ViceTestSupport

/// The audit log of a whole cycle, as an admin reads it.
@Suite struct AuditLogTests {
    @Test func aWholeCycleIsRecordedWithWhoWhatAndTheOutcome() async throws {
        let harness = try await APIHarness.make()
        harness.fixture.startWorkers()
        try await harness.run { api in
            let source = try #require(try await api.send(.post, "/v1/environments", as: "bob", json: memoryEnvironmentJSON(cloud: "a-\(UUID())")).string("id"))
            let target = try #require(try await api.send(.post, "/v1/environments", as: "bob", json: memoryEnvironmentJSON(cloud: "b-\(UUID())")).string("id"))
            let image = try #require(try await api.send(.post, "/v1/images", as: "bob", json: """
                {"originEnvironment": "\(source)", "environmentReference": "sample-raw"}
                """).string("id"))
            #expect(try await eventually { try await api.send(.get, "/v1/image/\(image)", as: "bob").string("status") == "active" })
            let deployment = try #require(try await api.send(.post, "/v1/deploy", as: "bob",
                                                             json: #"{"imageid": "\#(image)", "environmentId": "\#(target)"}"#).string("id"))
            #expect(try await eventually { try await api.send(.get, "/v1/deployment/\(deployment)", as: "bob").string("status") == "deployed" })
            _ = try await api.send(.delete, "/v1/deployment/\(deployment)", as: "bob")
            _ = try await api.send(.post, "/v1/user/tokens", as: "bob", json: #"{"name": "ci"}"#)
            // A policy refusal and a failed login.
            _ = try await api.send(.post, "/v1/environments", as: "bob",
                                   json: #"{"managementlayer": {"software": "memory"}, "credentials": {"location": "http://169.254.169.254/"}}"#)
            _ = try await api.send(.get, "/v1/user", as: "bob", password: "not-bobs-password")

            expectError(try await api.send(.get, "/v1/audit", as: "bob"), 403)
            let log = try await api.send(.get, "/v1/audit?user=bob", as: "alice")
            #expect(log.status == 200, "\(log.text)")
            let entries = log.array
            func has(_ action: String, _ outcome: String, subject: String? = nil) -> Bool {
                entries.contains { $0["action"] as? String == action && $0["outcome"] as? String == outcome
                    && (subject == nil || $0["subject"] as? String == subject) && $0["username"] as? String == "bob" && $0["time"] != nil }
            }
            #expect(has("createEnvironment", "ok"))
            #expect(has("createImage", "ok"))
            #expect(has("deployImage", "ok"))
            #expect(has("deleteDeployment", "ok", subject: deployment))
            #expect(has("createToken", "ok"))
            #expect(has("createEnvironment", "refused"))
            #expect(entries.contains { $0["action"] as? String == "createEnvironment" && ($0["detail"] as? String)?.contains("link-local") == true })
            #expect(has("login", "refused"))
            #expect(!log.text.contains("not-bobs-password"))
            // Newest first, paged, filtered by action.
            let times = entries.compactMap { $0["time"] as? String }
            #expect(times == times.sorted(by: >))
            let one = try await api.send(.get, "/v1/audit?user=bob&limit=1", as: "alice")
            #expect(one.array.count == 1 && one.headers[HTTPField.Name("Link")!] != nil)
            let logins = try await api.send(.get, "/v1/audit?action=login", as: "alice").array
            #expect(!logins.isEmpty && logins.allSatisfy { $0["action"] as? String == "login" })
            expectError(try await api.send(.get, "/v1/audit?since=yesterday", as: "alice"), 405)
        }
        await harness.fixture.stopWorkers()
    }
}
