import Foundation
import Testing
import ViceCore
import ViceTestSupport
import ViceSQLite

@Suite struct SecurityTests {
    @Test func environmentPasswordsAreEncryptedAtRestAndNeverReturned() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice")
        let secret = "very-secret-cloud-password-\(UUID())"
        let created = try await fixture.memoryEnvironment(owner: alice, cloud: "c", password: secret)
        #expect(created.credentials?.password == nil)
        #expect(created.credentials?.username == "tester")
        // Inline origins are kept with the image, encrypted as well.
        _ = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(credentials: Credentials(location: "c", password: secret + "-inline"),
                                                 managementlayer: ManagementLayer(software: "memory")),
                  environmentReference: "sample-raw"), owner: alice)
        let stored = try await fixture.storedBytes()
        #expect(stored.range(of: Data("alice".utf8)) != nil, "the records are readable there")
        #expect(stored.range(of: Data(secret.utf8)) == nil)
        #expect(stored.range(of: Data("tester".utf8)) == nil)  // the whole credentials object is sealed
    }

    @Test func anUpdateWithoutAPasswordKeepsTheStoredOne() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice")
        let created = try await fixture.memoryEnvironment(owner: alice, cloud: "c", password: "kept-password")
        _ = try await fixture.registry.updateEnvironment(
            Environment(id: created.id, title: "renamed", credentials: Credentials(location: "c2", username: "new")), owner: alice)
        let stored = try #require(try await fixture.store.read { try $0.environment(id: created.id!) })
        let credentials = try fixture.cipher.open(json: Credentials.self, from: try #require(stored.sealedCredentials))
        #expect(credentials.password == "kept-password")
        #expect(credentials.location == "c2")
        #expect(stored.environment.title == "renamed")
    }

    @Test func userPasswordsAreBcryptHashesAndVerificationIsCachedUntilTheyChange() async throws {
        let fixture = try await RegistryFixture()
        let alice = try await fixture.user("alice")
        #expect(alice.passwordHash.hasPrefix("$2"))
        #expect(!alice.passwordHash.contains(RegistryFixture.password(of: "alice")))
        let first = try await fixture.registry.authenticate(username: "alice", password: RegistryFixture.password(of: "alice"))
        #expect(first.id == alice.id)
        await #expect(throws: ViceError.self) { try await fixture.registry.authenticate(username: "alice", password: "wrong-password") }
        await #expect(throws: ViceError.self) { try await fixture.registry.authenticate(username: "nobody", password: "whatever1") }
        try await fixture.registry.setPassword(username: "alice", password: "a-new-password")
        await #expect(throws: ViceError.self) {
            try await fixture.registry.authenticate(username: "alice", password: RegistryFixture.password(of: "alice"))
        }
        #expect(try await fixture.registry.authenticate(username: "alice", password: "a-new-password").id == alice.id)
    }

    @Test func cachedCredentialsStopCountingWhenTheStoredHashChangesElsewhere() {
        let cache = CredentialCache()
        var user = UserRecord(id: "u", username: "u", passwordHash: "hash-1", email: nil, fullname: nil, isAdmin: false,
                              createdAt: Date(), updatedAt: Date())
        cache.remember(username: "u", password: "pw", user: user)
        #expect(cache.isVerified(username: "u", password: "pw", user: user))
        #expect(!cache.isVerified(username: "u", password: "other", user: user))
        user.passwordHash = "hash-2"  // e.g. `vice user passwd` from another process
        #expect(!cache.isVerified(username: "u", password: "pw", user: user))
        let shortLived = CredentialCache(lifetime: 1)
        shortLived.remember(username: "u", password: "pw", user: user, now: Date(timeIntervalSinceNow: -2))
        #expect(!shortLived.isVerified(username: "u", password: "pw", user: user))
    }

    @Test func idsAreLongRandomAndAlphanumeric() {
        let ids = (0..<1000).map { _ in IDGenerator.make() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.count == 20 && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } })
    }

    @Test func theFirstStartCreatesAnAdminOnceWithAGeneratedPassword() async throws {
        let fixture = try await RegistryFixture()
        let created = try #require(try await fixture.registry.bootstrapAdmin(password: nil))
        let generated = try #require(created.generatedPassword)
        #expect(generated.count >= 20)
        #expect(created.user.isAdmin)
        #expect(try await fixture.registry.authenticate(username: "admin", password: generated).id == created.user.id)
        #expect(try await fixture.registry.bootstrapAdmin(password: nil) == nil)
    }
}
