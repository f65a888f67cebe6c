import Foundation
import Logging

extension Registry {
    /// Checks Basic credentials from the client at `address`. Unknown user and wrong password look
    /// the same to the caller and cost the same (one bcrypt verification each); failures are
    /// counted per user name and per address (429 past the limits), verifications wait in a
    /// bounded queue (503 when it is full), and recently verified credentials skip both.
    package func authenticate(username: String, password: String, address: String? = nil) async throws -> UserRecord {
        let refused = ViceError(.unauthorized, "invalid username or password")
        let user = try await store.read { try $0.user(username: username) }.flatMap { $0.isDisabled ? nil : $0 }
        if let user, credentialCache.isVerified(username: username, password: password, user: user) {
            return user
        }
        try loginGuard.checkAllowed(username: username, address: address)
        // bcrypt stops at a NUL byte: "secret\0anything" would match "secret". No valid password
        // holds a control character, so such a login fails without a verification.
        let wellFormed = !Self.hasControlCharacters(password) && !Self.hasControlCharacters(username)
        let hash: String
        if let user { hash = user.passwordHash } else { hash = try await unknownUserHash() }
        let hasher = self.hasher
        let matches = wellFormed ? try await loginGuard.verify { try await hasher.verify(password, hash: hash) } : false
        guard let user, matches else {
            await recordLoginFailure(counted: username, username: username, userID: user?.id, subject: nil, address: address,
                                     detail: "wrong user name or password")
            throw refused
        }
        loginGuard.recordSuccess(username: username)
        credentialCache.remember(username: username, password: password, user: user)
        return user
    }

    /// A refused login: counted by the limiter under `counted`, logged (never the secret) and
    /// recorded in the audit log.
    func recordLoginFailure(counted: String, username: String?, userID: String?, subject: String?, address: String?,
                            detail: String) async {
        loginGuard.recordFailure(username: counted, address: address)
        logger.notice("login failed", metadata: ["user": "\(RemoteText.excerpt(username ?? "-", limit: 64))",
                                                 "address": "\(address ?? "unknown")", "reason": "\(detail)"])
        await recordAudit(AuditEntry(userid: userID, username: username, action: "login", subject: subject, outcome: "refused",
                                     status: 401, address: address, detail: detail))
    }

    func unknownUserHash() async throws -> String {
        if let hash = dummyHash.withLock({ $0 }) { return hash }
        let hash = try await hasher.hash(IDGenerator.make(length: 24))
        dummyHash.withLock { $0 = $0 ?? hash }
        return hash
    }

    static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    /// `POST /user`: registers a user. With registration closed only an admin may do it, and only
    /// an admin may create another admin.
    package func createUser(_ input: User, by principal: UserRecord?) async throws -> User {
        if !options.openRegistration {
            guard let principal else { throw ViceError(.unauthorized, "registration is closed: authenticate as an admin") }
            guard principal.isAdmin else { throw ViceError(.forbidden, "registration is closed: only admins create users") }
        }
        // The seed's `admin: true` from someone who is not an admin quietly makes a user (as
        // before); an explicit role that needs an admin is refused.
        let byAdmin = principal?.isAdmin == true
        let role = input.role ?? (input.admin == true && byAdmin ? .admin : .user)
        guard role == .user || byAdmin else {
            throw ViceError(.forbidden, "only admins create \(role.rawValue)s")
        }
        return try await addUser(username: input.username, password: input.password, email: input.email,
                                 fullname: input.fullname, admin: role == .admin, reader: role == .reader).publicView
    }

    /// Adds a user (the API and `vice user add`).
    package func addUser(username: String?, password: String?, email: String?, fullname: String?, admin: Bool,
                        reader: Bool = false) async throws -> UserRecord {
        guard let username = username?.trimmingCharacters(in: .whitespaces), !username.isEmpty else {
            throw ViceError.invalidInput("username is required")
        }
        try Self.validate(username: username)
        guard let password else { throw ViceError.invalidInput("password is required") }
        try Self.validate(password: password)
        try Self.validate(email: email)
        try Validate.title(fullname, field: "fullname")
        let hash = try await hasher.hash(password)
        let now = Date()
        return try await withFreshID { id in
            let record = UserRecord(id: id, username: username, passwordHash: hash, email: email, fullname: fullname,
                                    isAdmin: admin, isReader: reader, createdAt: now, updatedAt: now)
            try await self.store.write { tx in
                if try tx.user(username: username) != nil {
                    throw ViceError.conflict("username '\(username)' is taken")
                }
                try tx.insertUser(record)
            }
            return record
        }
    }

    /// Changes a password (`vice user passwd`); cached verifications of the old one stop counting.
    package func setPassword(username: String, password: String) async throws {
        try Self.validate(password: password)
        let hash = try await hasher.hash(password)
        let user = try await store.write { tx -> UserRecord in
            guard var user = try tx.user(username: username) else { throw ViceError.notFound("no user '\(username)'") }
            user.passwordHash = hash
            user.updatedAt = Date()
            try tx.updateUser(user)
            return user
        }
        credentialCache.forget(userID: user.id)
    }

    package func listUsers() async throws -> [UserRecord] {
        try await store.read { try $0.users() }
    }

    /// `GET /v1/users`, for admins.
    package func users(by principal: UserRecord) async throws -> [User] {
        guard principal.isAdmin else { throw ViceError(.forbidden, "only admins list users") }
        return try await listUsers().map(\.publicView)
    }

    /// `PUT /v1/user/{id}`, for admins: changes a user's role, or disables (or enables) them. A
    /// disabled user's passwords and tokens stop working at once; their records stay.
    package func updateUser(id: String, _ input: User, by principal: UserRecord) async throws -> User {
        guard principal.isAdmin else { throw ViceError(.forbidden, "only admins change users") }
        guard id != principal.id || (input.disabled != true && (input.role ?? .admin) == .admin) else {
            throw ViceError.invalidInput("admins cannot disable or demote themselves")
        }
        try Validate.title(input.fullname, field: "fullname")
        try Self.validate(email: input.email)
        // An admin may set a new password (a reset); the user name is the account's for good.
        var newHash: String?
        if let password = input.password {
            try Self.validate(password: password)
            newHash = try await hasher.hash(password)
        }
        let hash = newHash
        let user = try await store.write { tx -> UserRecord in
            guard var user = try tx.user(id: id) else { throw ViceError.notFound("user \(id) not found") }
            if let username = input.username?.trimmingCharacters(in: .whitespaces), username.lowercased() != user.username.lowercased() {
                throw ViceError.invalidInput("username cannot be changed (create a new user instead)")
            }
            if let hash { user.passwordHash = hash }
            if let role = input.role {
                user.isAdmin = role == .admin
                user.isReader = role == .reader
            }
            if let disabled = input.disabled { user.isDisabled = disabled }
            if let email = input.email { user.email = email }
            if let fullname = input.fullname { user.fullname = fullname }
            user.updatedAt = Date()
            try tx.updateUser(user)
            return user
        }
        credentialCache.forget(userID: id)
        return user.publicView
    }

    static func validate(email: String?) throws {
        if let email, !email.isEmpty, !(email.contains("@") && email.count <= 254) {
            throw ViceError.invalidInput("email is not an address")
        }
    }

    /// `DELETE /v1/user/{id}`, for admins. A user who still owns environments, images or
    /// deployments is not deleted (409 with the counts): those are removed or kept deliberately,
    /// never swept away with the account. Their tokens and webhooks go with them.
    package func deleteUser(id: String, by principal: UserRecord) async throws {
        guard principal.isAdmin else { throw ViceError(.forbidden, "only admins delete users") }
        guard id != principal.id else { throw ViceError.invalidInput("admins cannot delete themselves") }
        try await store.write { tx in
            guard let user = try tx.user(id: id) else { throw ViceError.notFound("user \(id) not found") }
            let environments = try tx.environments(owner: id, filter: EnvironmentFilter()).count
            let images = try tx.images(owner: id, query: ImageQuery()).count
            let deployments = try tx.deployments(owner: id, page: PageRequest()).count
            guard environments + images + deployments == 0 else {
                throw ViceError.conflict(
                    "\(user.username) still owns \(environments) environments, \(images) images and \(deployments) deployments; delete them first")
            }
            for token in try tx.tokens(userID: id) { try tx.deleteToken(id: token.id) }
            // Their webhooks go too: nobody's events would reach them, and their URLs stay nobody's.
            for webhook in try tx.webhooks(owner: id) { try tx.deleteWebhook(id: webhook.id) }
            try tx.deleteUser(id: id)
        }
        credentialCache.forget(userID: id)
    }

    /// On a first start with no users: creates `admin` with `password`, or with a random password
    /// that is returned so the caller can show it once. Nil when users exist already.
    package func bootstrapAdmin(password: String?) async throws -> (user: UserRecord, generatedPassword: String?)? {
        guard try await store.read({ try $0.userCount() }) == 0 else { return nil }
        let generated = password == nil ? IDGenerator.make(length: 24) : nil
        do {
            let user = try await addUser(username: "admin", password: password ?? generated, email: nil,
                                         fullname: "Administrator", admin: true)
            return (user, generated)
        } catch let error as ViceError where error.code == .conflict {
            return nil   // another node sharing the database, starting at the same time, made it
        }
    }

    static func validate(username: String) throws {
        let allowed = username.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._@-".contains($0)) }
        guard allowed, username.count <= 64, username.first?.isLetter == true || username.first?.isNumber == true else {
            throw ViceError.invalidInput("username must be 1-64 characters of letters, digits and . _ @ -, starting with a letter or digit")
        }
    }

    static func validate(password: String) throws {
        guard password.count >= 8 else { throw ViceError.invalidInput("password must have at least 8 characters") }
        guard !hasControlCharacters(password) else {
            throw ViceError.invalidInput("password must not contain control characters (NUL, tab, newline, …)")
        }
        // bcrypt reads 72 bytes; a longer password would be silently cut.
        guard password.utf8.count <= 72 else { throw ViceError.invalidInput("password must not exceed 72 bytes") }
    }
}
