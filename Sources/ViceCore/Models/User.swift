import Foundation

/// A registry user as the API shows it. `password` is accepted on input and never returned.
public struct User: Sendable, Hashable, Codable {
    public var id: String?
    public var username: String?
    public var password: String?
    public var email: String?
    public var fullname: String?
    /// Added to the seed: whether the user may manage other users.
    public var admin: Bool?
    public var createdAt: Date?

    public init(id: String? = nil, username: String? = nil, password: String? = nil, email: String? = nil,
                fullname: String? = nil, admin: Bool? = nil, createdAt: Date? = nil) {
        self.id = id
        self.username = username
        self.password = password
        self.email = email
        self.fullname = fullname
        self.admin = admin
        self.createdAt = createdAt
    }
}

/// A user as stored: the password only as a bcrypt hash.
public struct UserRecord: Sendable, Hashable {
    public var id: String
    public var username: String
    public var passwordHash: String
    public var email: String?
    public var fullname: String?
    public var isAdmin: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, username: String, passwordHash: String, email: String?, fullname: String?,
                isAdmin: Bool, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.username = username
        self.passwordHash = passwordHash
        self.email = email
        self.fullname = fullname
        self.isAdmin = isAdmin
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The API view: never the password or its hash.
    public var publicView: User {
        User(id: id, username: username, email: email, fullname: fullname, admin: isAdmin, createdAt: createdAt)
    }
}
