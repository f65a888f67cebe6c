import Foundation
import Hummingbird
import Testing
import ViceCore
import ViceServer
import ViceTestSupport
import HummingbirdTesting

/// A password hasher that counts its verifications, and can be slow.
final class CountingHasher: PasswordHasher, @unchecked Sendable {
    let base = BcryptPasswordHasher(cost: 4)
    let delay: Duration
    private let lock = NSLock()
    private var verifications = 0

    init(delay: Duration = .zero) {
        self.delay = delay
    }

    var verified: Int { lock.withLock { verifications } }

    func hash(_ password: String) async throws -> String { try await base.hash(password) }

    func verify(_ password: String, hash: String) async throws -> Bool {
        lock.withLock { verifications += 1 }
        if delay > .zero { try await Task.sleep(for: delay) }
        return try await base.verify(password, hash: hash)
    }
}

/// Logins that withstand guessing: the same work for unknown users and wrong passwords, limits
/// per user name and per address, a bounded queue of password checks, no NUL tricks.
@Suite struct LoginHardeningTests {
    @Test func anUnknownUserCostsWhatAWrongPasswordCosts() async throws {
        let hasher = CountingHasher()
        let fixture = try await RegistryFixture(hasher: hasher)
        try await fixture.user("victim")
        let before = hasher.verified
        await #expect(throws: ViceError.self) { try await fixture.registry.authenticate(username: "nobody", password: "whatever-it-is") }
        let unknown = hasher.verified - before
        await #expect(throws: ViceError.self) { try await fixture.registry.authenticate(username: "victim", password: "not-the-password") }
        let wrong = hasher.verified - before - unknown
        #expect(unknown == 1 && wrong == 1, "unknown user: \(unknown) verifications, wrong password: \(wrong)")
    }

    @Test func repeatedFailuresAre429WithRetryAfter() async throws {
        let limits = LoginLimits(failuresPerUser: 3, failuresPerAddress: 100, window: 600)
        let fixture = try await RegistryFixture(loginLimits: limits)
        try await fixture.user("target")
        let right = RegistryFixture.password(of: "target")
        for _ in 0..<3 {
            await #expect { try await fixture.registry.authenticate(username: "target", password: "guess-guess", address: "192.0.2.1") }
                throws: { ($0 as? ViceError)?.code == .unauthorized }
        }
        // The fourth guess is refused before any password is checked, from any address.
        await #expect { try await fixture.registry.authenticate(username: "target", password: right, address: "198.51.100.9") } throws: {
            let error = $0 as? ViceError
            return error?.code == .tooManyRequests && (1...600).contains(error?.retryAfter ?? 0)
        }
    }

    /// The window slides: failures older than it no longer count (clock given explicitly).
    @Test func theLimitLiftsWhenTheWindowHasPassed() throws {
        let guardian = LoginGuard(limits: LoginLimits(failuresPerUser: 2, failuresPerAddress: 100, window: 60))
        let start = Date()
        guardian.recordFailure(username: "t", address: "192.0.2.1", now: start)
        guardian.recordFailure(username: "T", address: "192.0.2.2", now: start.addingTimeInterval(10))
        #expect { try guardian.checkAllowed(username: "t", address: nil, now: start.addingTimeInterval(20)) } throws: {
            ($0 as? ViceError)?.retryAfter == 40
        }
        try guardian.checkAllowed(username: "t", address: nil, now: start.addingTimeInterval(61))   // the first fell out
        guardian.recordFailure(username: "t", address: nil, now: start.addingTimeInterval(62))
        #expect(throws: ViceError.self) { try guardian.checkAllowed(username: "t", address: nil, now: start.addingTimeInterval(63)) }
        guardian.recordSuccess(username: "t")
        try guardian.checkAllowed(username: "t", address: nil, now: start.addingTimeInterval(64))
    }

    @Test func oneAddressCannotGuessAcrossManyUsers() async throws {
        let limits = LoginLimits(failuresPerUser: 100, failuresPerAddress: 4, window: 60)
        let fixture = try await RegistryFixture(loginLimits: limits)
        for index in 0..<4 {
            await #expect(throws: ViceError.self) {
                try await fixture.registry.authenticate(username: "user\(index)", password: "guess-guess", address: "203.0.113.7")
            }
        }
        await #expect { try await fixture.registry.authenticate(username: "user9", password: "guess-guess", address: "203.0.113.7") }
            throws: { ($0 as? ViceError)?.code == .tooManyRequests }
        // Another address is not affected.
        await #expect { try await fixture.registry.authenticate(username: "user9", password: "guess-guess", address: "203.0.113.8") }
            throws: { ($0 as? ViceError)?.code == .unauthorized }
    }

    @Test func passwordChecksWaitInABoundedQueue() async throws {
        let hasher = CountingHasher(delay: .milliseconds(400))
        let limits = LoginLimits(failuresPerUser: 100, failuresPerAddress: 100, concurrentVerifications: 1, queuedVerifications: 1)
        let fixture = try await RegistryFixture(hasher: hasher, loginLimits: limits)
        try await fixture.user("busy")
        let outcomes = await withTaskGroup(of: ViceError.Code?.self) { group -> [ViceError.Code?] in
            for index in 0..<6 {
                group.addTask {
                    do {
                        _ = try await fixture.registry.authenticate(username: "busy", password: "wrong-\(index)-password")
                        return nil
                    } catch let error as ViceError {
                        return error.code
                    } catch {
                        return .internal
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let busy = outcomes.filter { $0 == .unavailable }.count
        let checked = outcomes.filter { $0 == .unauthorized }.count
        #expect(busy >= 1 && checked >= 1 && busy + checked == 6, "\(outcomes)")
        #expect(hasher.verified == checked)   // refused logins cost no verification
    }

    @Test func aPasswordWithANulByteIsNeverAPrefixMatch() async throws {
        let fixture = try await RegistryFixture()
        try await fixture.user("nul")
        let right = RegistryFixture.password(of: "nul")
        // bcrypt reads up to the first NUL: this would match the real password.
        await #expect(throws: ViceError.self) { try await fixture.registry.authenticate(username: "nul", password: right + "\0anything") }
        await #expect(throws: ViceError.self) { try await fixture.registry.authenticate(username: "nul", password: right + "\n") }
        #expect(try await fixture.registry.authenticate(username: "nul", password: right).username == "nul")
        await #expect { try await fixture.registry.addUser(username: "ctl", password: "abcdefgh\0ijk", email: nil, fullname: nil, admin: false) }
            throws: { ($0 as? ViceError)?.code == .invalidInput }
    }
}

/// Bodies a browser could send cross-site are refused, and CORS is off unless configured.
@Suite struct BrowserSafetyTests {
    @Test func jsonRoutesTakeOnlyJSON() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let body = memoryEnvironmentJSON(cloud: "c-\(UUID())")
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
                let refused = try await api.send(.post, "/v1/environments", as: "bob", headers: [.contentType: type], body: Array(body.utf8))
                expectError(refused, 415, kind: "unsupportedMediaType")
            }
            let missing = try await api.send(.post, "/v1/environments", as: "bob", body: Array(body.utf8))
            expectError(missing, 415)
            #expect(try await api.send(.post, "/v1/environments", as: "bob", headers: [.contentType: "application/json; charset=utf-8"],
                                       body: Array(body.utf8)).status == 201)
            // Uploads take raw bytes or a form with a file, nothing else.
            let image = try #require(try await api.send(.post, "/v1/images", as: "bob", json: #"{"contenttype": "disk-raw"}"#).string("id"))
            expectError(try await api.send(.post, "/v1/image/\(image)/file", as: "bob", headers: [.contentType: "text/plain"], body: [1, 2, 3]), 415)
        }
    }

    @Test func corsIsOffUnlessOriginsAreListed() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let answer = try await api.send(.get, "/v1/user", as: "bob", headers: [.origin: "https://evil.example"])
            #expect(answer.status == 200 && answer.headers[.accessControlAllowOrigin] == nil)
            let preflight = try await api.send(.options, "/v1/environments",
                                               headers: [.origin: "https://evil.example", .accessControlRequestMethod: "POST"])
            #expect(preflight.headers[.accessControlAllowOrigin] == nil)
        }
        let app = Application(router: ViceAPI(registry: harness.fixture.registry, corsOrigins: ["https://ui.uni.example"]).makeRouter())
        try await app.test(.router) { client in
            let api = APIClient(client)
            let listed = try await api.send(.get, "/v1/user", as: "bob", headers: [.origin: "https://ui.uni.example"])
            #expect(listed.headers[.accessControlAllowOrigin] == "https://ui.uni.example")
            let preflight = try await api.send(.options, "/v1/environments",
                                               headers: [.origin: "https://ui.uni.example", .accessControlRequestMethod: "POST"])
            #expect(preflight.status == 204 && preflight.headers[.accessControlAllowOrigin] == "https://ui.uni.example")
            let other = try await api.send(.get, "/v1/user", as: "bob", headers: [.origin: "https://evil.example"])
            #expect(other.headers[.accessControlAllowOrigin] == nil)
        }
    }
}
