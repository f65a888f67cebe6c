public import Foundation

/// What a token may do. Ordered: `read` < `deploy` < `admin`.
public enum TokenScope: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    /// GET only.
    case read
    /// Read, plus creating, changing and deleting one's environments, images and deployments:
    /// imports, uploads and deploys.
    case deploy
    /// Everything its (admin) owner may do, user management included.
    case admin

    public static func < (lhs: TokenScope, rhs: TokenScope) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// A named API token as the API shows it. `token` (the secret) is set only in the answer that
/// created it: the registry keeps only its SHA-256.
public struct APIToken: Sendable, Hashable, Codable {
    public var id: String?
    public var name: String?
    public var scope: TokenScope?
    public var createdAt: Date?
    public var expiresAt: Date?
    /// Input: days until the token expires (default 90, at most 3650).
    public var expiresInDays: Int?
    /// Output, once: the secret to send as the Basic password or as `Authorization: Bearer`.
    public var token: String?

    public init(id: String? = nil, name: String? = nil, scope: TokenScope? = nil, createdAt: Date? = nil,
                expiresAt: Date? = nil, expiresInDays: Int? = nil, token: String? = nil) {
        self.id = id
        self.name = name
        self.scope = scope
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.expiresInDays = expiresInDays
        self.token = token
    }
}

/// A token as stored: the SHA-256 of its secret, never the secret.
public struct StoredToken: Sendable, Hashable {
    public var id: String
    public var userID: String
    public var name: String
    public var scope: TokenScope
    /// Lower-case hex SHA-256 of the secret part.
    public var secretHash: String
    public var createdAt: Date
    public var expiresAt: Date

    public init(id: String, userID: String, name: String, scope: TokenScope, secretHash: String, createdAt: Date, expiresAt: Date) {
        self.id = id
        self.userID = userID
        self.name = name
        self.scope = scope
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    public var view: APIToken {
        APIToken(id: id, name: name, scope: scope, createdAt: createdAt, expiresAt: expiresAt)
    }
}
