public import Foundation

/// A registry user as the API shows it. `password` is accepted on input and never returned.
public struct User: Sendable, Hashable, Codable {
    public var id: String?
    public var username: String?
    public var password: String?
    public var email: String?
    public var fullname: String?
    /// Added to the seed: whether the user may manage other users.
    public var admin: Bool?
    /// Added to the seed: `admin` (manages every user and record), `user` (their own records), or
    /// `reader` (may only read their own). Admins set it when creating a user.
    public var role: UserRole?
    /// Added to the seed: a disabled user cannot log in (passwords and tokens are refused); their
    /// records stay. Admins set it with `PUT /v1/user/{userId}`.
    public var disabled: Bool?
    public var createdAt: Date?

    public init(id: String? = nil, username: String? = nil, password: String? = nil, email: String? = nil,
                fullname: String? = nil, admin: Bool? = nil, role: UserRole? = nil, createdAt: Date? = nil) {
        self.role = role
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
    /// A reader may only read: every credential of theirs has the `read` scope.
    public var isReader: Bool
    public var isDisabled: Bool
    public var createdAt: Date
    public var updatedAt: Date

    public init(id: String, username: String, passwordHash: String, email: String?, fullname: String?,
                isAdmin: Bool, isReader: Bool = false, isDisabled: Bool = false, createdAt: Date, updatedAt: Date) {
        self.isDisabled = isDisabled
        self.isReader = isReader && !isAdmin
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
        var user = User(id: id, username: username, email: email, fullname: fullname, admin: isAdmin, role: role, createdAt: createdAt)
        user.disabled = isDisabled
        return user
    }
}

/// What a user may do.
public enum UserRole: String, Sendable, Hashable, Codable, CaseIterable {
    case admin, user, reader
}

extension UserRecord {
    public var role: UserRole { isAdmin ? .admin : isReader ? .reader : .user }

    /// Whether this user may read and change a record owned by `ownerID`: their own, or any for an admin.
    public func mayManage(_ ownerID: String?) -> Bool {
        isAdmin || ownerID == id
    }

    /// Whose records this user's lists show: their own, or (nil) everyone's for an admin.
    public var listedOwner: String? { isAdmin ? nil : id }
}
