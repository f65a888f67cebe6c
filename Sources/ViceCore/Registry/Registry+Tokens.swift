import Crypto
package import Foundation

/// Who made a request, and how far their credentials reach.
package struct Principal: Sendable, Hashable {
    package var user: UserRecord
    /// The token's scope; a password reaches as far as the user may go.
    package var scope: TokenScope

    package init(user: UserRecord, scope: TokenScope) {
        self.user = user
        self.scope = scope
    }

    /// The user as far as this credential reaches: below `admin` scope, none of the owner's
    /// admin rights (nor the trust an admin's environments get).
    package var actingUser: UserRecord {
        var user = self.user
        if scope < .admin { user.isAdmin = false }
        return user
    }
}

extension Registry {
    /// Tokens look like `vice_<id>_<secret>`: the id finds the record, the secret (32 random
    /// characters) is compared by its SHA-256. No bcrypt: the secret has ~190 bits.
    static let tokenPrefix = "vice_"

    /// The scope a password grants.
    package static func passwordScope(of user: UserRecord) -> TokenScope {
        user.isAdmin ? .admin : user.isReader ? .read : .deploy
    }

    /// `POST /v1/user/tokens`: a new token of `owner`, returned with its secret this once. Its
    /// scope may not exceed the caller's own.
    package func createToken(_ input: APIToken, by principal: Principal, now: Date = Date()) async throws -> APIToken {
        let name = input.name?.trimmingCharacters(in: .whitespaces) ?? ""
        guard !name.isEmpty, name.count <= 64, !Self.hasControlCharacters(name) else {
            throw ViceError.invalidInput("name is required: 1-64 printable characters")
        }
        let scope = input.scope ?? .read
        guard scope <= principal.scope else {
            throw ViceError(.forbidden, "a \(principal.scope.rawValue) credential cannot create a \(scope.rawValue) token")
        }
        let days = input.expiresInDays ?? 90
        guard (1...3650).contains(days) else { throw ViceError.invalidInput("expiresInDays must be between 1 and 3650") }
        let secret = IDGenerator.make(length: 32)
        let owner = principal.user.id
        let stored = try await withFreshID { id -> StoredToken in
            let token = StoredToken(id: id, userID: owner, name: name, scope: scope, secretHash: Self.digest(secret),
                                    createdAt: now, expiresAt: now.addingTimeInterval(TimeInterval(days) * 86_400))
            try await self.store.write { tx in
                // Expired tokens (dashboard sessions among them) go first: they count for nothing.
                var live = 0
                for existing in try tx.tokens(userID: owner) {
                    if existing.expiresAt <= now { try tx.deleteToken(id: existing.id) } else { live += 1 }
                }
                guard live < 100 else {
                    throw ViceError.invalidInput("a user has at most 100 tokens; revoke one first")
                }
                try tx.insertToken(token)
            }
            return token
        }
        var view = stored.view
        view.token = Self.tokenPrefix + stored.id + "_" + secret
        return view
    }

    /// `GET /v1/user/tokens`: the caller's tokens, without secrets.
    package func tokens(of user: UserRecord) async throws -> [APIToken] {
        try await store.read { try $0.tokens(userID: user.id) }.map(\.view)
    }

    /// `DELETE /v1/user/tokens/{id}`: revokes one of the caller's tokens, at once.
    package func deleteToken(id: String, of user: UserRecord) async throws {
        try await store.write { tx in
            guard let token = try tx.token(id: id), token.userID == user.id else { throw ViceError.notFound("token \(id) not found") }
            try tx.deleteToken(id: id)
        }
    }

    /// Revokes the token `text` (a whole `vice_<id>_<secret>`) if its secret matches: signing out
    /// of the dashboard. No login limit applies (a user whose address is rate-limited must still
    /// be able to end a session); answers whether a token was deleted.
    @discardableResult
    package func revoke(token text: String) async throws -> Bool {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, Self.looksLikeToken(text) else { return false }
        let id = String(parts[1]), digest = Self.digest(String(parts[2]))
        return try await store.write { tx in
            guard let token = try tx.token(id: id), token.secretHash == digest else { return false }
            try tx.deleteToken(id: id)
            return true
        }
    }

    /// Whether `text` has the form of a token (so a Basic password is checked as one).
    package static func looksLikeToken(_ text: String) -> Bool {
        text.hasPrefix(tokenPrefix) && text.split(separator: "_").count == 3
    }

    /// Checks a token (and, from a Basic header, that it belongs to `username`). Failures count
    /// like failed logins; an expired or revoked token is refused like a wrong password.
    package func authenticate(token text: String, username: String?, address: String? = nil, now: Date = Date()) async throws -> Principal {
        let refused = ViceError(.unauthorized, "invalid username or password")
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        // Failures count against the user name, or (Bearer) the token id, and the address: junk
        // Bearer headers cannot lock out every other token.
        let limited = username ?? "token:" + (parts.count == 3 ? String(parts[1].prefix(32)) : "malformed")
        try loginGuard.checkAllowed(username: limited, address: address)
        guard parts.count == 3, parts[0] == "vice", IDGenerator.isPlausible(String(parts[1])) else {
            loginGuard.recordFailure(username: limited, address: address)
            throw refused
        }
        let id = String(parts[1]), secret = String(parts[2])
        let found = try await store.read { tx -> (StoredToken, UserRecord)? in
            guard let token = try tx.token(id: id), let user = try tx.user(id: token.userID), !user.isDisabled else { return nil }
            return (token, user)
        }
        guard let (token, user) = found, Self.constantTimeEqual(Self.digest(secret), token.secretHash), token.expiresAt > now,
              username.map({ $0.lowercased() == user.username.lowercased() }) ?? true else {
            await recordLoginFailure(counted: limited, username: username, userID: nil, subject: id, address: address,
                                     detail: "invalid, expired or revoked token")
            throw refused
        }
        // An admin token of a user who is no longer admin reaches only as far as the user does now.
        return Principal(user: user, scope: min(token.scope, Self.passwordScope(of: user)))
    }

    static func digest(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).hexString
    }

    /// Whether a secret someone sent is the one expected (a scrape token, a CSRF token): their
    /// digests compared in constant time, so neither the length nor the first differing byte
    /// shows in the timing.
    package static func secretsMatch(_ given: String?, _ expected: String) -> Bool {
        guard let given else { return false }
        return constantTimeEqual(digest(given), digest(expected))
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
