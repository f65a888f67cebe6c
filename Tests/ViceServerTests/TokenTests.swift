import Foundation
import Hummingbird
import Testing
import ViceCore
import ViceTestSupport

/// API tokens as REST callers and CI pipelines use them.
@Suite struct TokenTests {
    func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }

    @Test func aTokenIsShownOnceListedWithoutItsSecretAndStoredHashed() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let created = try await api.send(.post, "/v1/user/tokens", as: "bob", json: #"{"name": "ci pipeline", "scope": "deploy", "expiresInDays": 7}"#)
            #expect(created.status == 201, "\(created.text)")
            let secret = try #require(created.string("token"))
            #expect(secret.hasPrefix("vice_") && created.string("scope") == "deploy" && created.string("name") == "ci pipeline")
            let listed = try await api.send(.get, "/v1/user/tokens", as: "bob")
            #expect(listed.array.count == 1 && listed.array[0]["token"] == nil && listed.array[0]["id"] as? String == created.string("id"))
            #expect(!listed.text.contains(secret.split(separator: "_").last.map(String.init) ?? "?"))
            // Others do not see it.
            #expect(try await api.send(.get, "/v1/user/tokens", as: "alice").array.isEmpty)
            let database = try await harness.fixture.storedBytes()
            #expect(database.range(of: Data(secret.utf8)) == nil)
        }
    }

    @Test func aTokenWorksAsTheBasicPasswordAndAsBearerAndItsScopeIsHeld() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let read = try #require(try await api.send(.post, "/v1/user/tokens", as: "bob", json: #"{"name": "reader"}"#).string("token"))
            // Basic with the token as password: every seed client works unchanged.
            #expect(try await api.send(.get, "/v1/user", as: "bob", password: read).string("username") == "bob")
            #expect(try await api.send(.get, "/v1/images", headers: bearer(read)).status == 200)
            // A read token cannot change anything, nor mint a stronger token.
            expectError(try await api.send(.post, "/v1/images", headers: [.authorization: "Bearer \(read)", .contentType: "application/json"],
                                           body: Array(#"{"contenttype": "disk-raw"}"#.utf8)), 403, mentioning: "scope is read")
            expectError(try await api.send(.post, "/v1/user/tokens", as: "bob", password: read, json: #"{"name": "x", "scope": "deploy"}"#), 403)
            // A deploy token can, but cannot create users even for an admin.
            let deploy = try #require(try await api.send(.post, "/v1/user/tokens", as: "bob", json: #"{"name": "ci", "scope": "deploy"}"#).string("token"))
            #expect(try await api.send(.post, "/v1/images", as: "bob", password: deploy, json: #"{"contenttype": "disk-raw"}"#).status == 201)
            expectError(try await api.send(.post, "/v1/user/tokens", as: "bob", json: #"{"name": "x", "scope": "admin"}"#), 403)
            let aliceDeploy = try #require(try await api.send(.post, "/v1/user/tokens", as: "alice", json: #"{"name": "a", "scope": "deploy"}"#).string("token"))
            expectError(try await api.send(.post, "/v1/user", as: "alice", password: aliceDeploy,
                                           json: #"{"username": "newbie", "password": "newbie-password"}"#), 403)
            let aliceAdmin = try #require(try await api.send(.post, "/v1/user/tokens", as: "alice", json: #"{"name": "b", "scope": "admin"}"#).string("token"))
            #expect(try await api.send(.post, "/v1/user", as: "alice", password: aliceAdmin,
                                       json: #"{"username": "newbie", "password": "newbie-password"}"#).status == 200)
            // Below admin scope an admin's token has no admin trust: no loopback environment with it.
            let loopback = #"{"managementlayer": {"software": "memory"}, "credentials": {"location": "http://127.0.0.1:5000/v3"}}"#
            expectError(try await api.send(.post, "/v1/environments", as: "alice", password: aliceDeploy, json: loopback), 405, mentioning: "loopback")
            #expect(try await api.send(.post, "/v1/environments", as: "alice", json: loopback).status == 201)
            // Tokens are made with passwords only.
            expectError(try await api.send(.post, "/v1/user/tokens", as: "alice", password: aliceAdmin, json: #"{"name": "child"}"#), 403,
                        mentioning: "with a password")
            // Another user's name with bob's token is refused.
            expectError(try await api.send(.get, "/v1/user", as: "alice", password: read), 401)
        }
    }

    @Test func revocationTakesEffectAtOnceAndExpiredTokensAreRefused() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let created = try await api.send(.post, "/v1/user/tokens", as: "bob", json: #"{"name": "short-lived"}"#)
            let secret = try #require(created.string("token")), id = try #require(created.string("id"))
            #expect(try await api.send(.get, "/v1/user", headers: bearer(secret)).status == 200)
            #expect(try await api.send(.delete, "/v1/user/tokens/\(id)", as: "bob").status == 200)
            expectError(try await api.send(.get, "/v1/user", headers: bearer(secret)), 401)
            expectError(try await api.send(.delete, "/v1/user/tokens/\(id)", as: "bob"), 404)
        }
        // Expiry: a token made with a clock a year back.
        let old = try await harness.fixture.registry.createToken(
            APIToken(name: "old", scope: .read, expiresInDays: 30),
            by: Principal(user: harness.bob, scope: .deploy), now: Date().addingTimeInterval(-365 * 86_400))
        await #expect { try await harness.fixture.registry.authenticate(token: old.token!, username: "bob") }
            throws: { ($0 as? ViceError)?.code == .unauthorized }
        // A tampered secret with a real id is refused.
        let good = try await harness.fixture.registry.createToken(APIToken(name: "good"), by: Principal(user: harness.bob, scope: .deploy))
        let tampered = String(good.token!.dropLast()) + (good.token!.hasSuffix("a") ? "b" : "a")
        await #expect(throws: ViceError.self) { try await harness.fixture.registry.authenticate(token: tampered, username: "bob") }
        #expect(try await harness.fixture.registry.authenticate(token: good.token!, username: "bob").scope == .read)
    }

    @Test func expiredTokensDoNotCountAgainstTheCapAndGoWhenANewOneIsMade() async throws {
        let harness = try await APIHarness.make()
        let bob = Principal(user: harness.bob, scope: .deploy)
        // 100 one-day sessions from long ago, as a dashboard user who never signs out leaves them.
        let past = Date().addingTimeInterval(-30 * 86_400)
        for i in 0..<100 {
            _ = try await harness.fixture.registry.createToken(APIToken(name: "session \(i)", expiresInDays: 1), by: bob, now: past)
        }
        let live = try await harness.fixture.registry.createToken(APIToken(name: "today"), by: bob)
        #expect(live.token != nil)
        #expect(try await harness.fixture.registry.tokens(of: harness.bob).map(\.name) == ["today"], "the expired ones are gone")
        for i in 0..<99 { _ = try await harness.fixture.registry.createToken(APIToken(name: "live \(i)"), by: bob) }
        await #expect { _ = try await harness.fixture.registry.createToken(APIToken(name: "one too many"), by: bob) }
            throws: { ($0 as? ViceError)?.message.contains("at most 100") == true }
    }
}
