/// An environment the operator declared in the configuration ("environments as code"): it lives
/// in memory, not in the database, holds its credentials as configured, is visible to every user
/// or to the named ones, and cannot be changed or deleted through the API.
public struct ConfiguredEnvironment: Sendable, Hashable {
    /// With `id`, `title`, `managementlayer`, `runtimetechnology` and `credentials` (in clear).
    public var environment: Environment
    /// Usernames allowed to use it; nil = every user.
    public var users: Set<String>?
    /// Where it was declared (`file:line`), for messages.
    public var source: String

    public init(environment: Environment, users: Set<String>?, source: String) {
        self.environment = environment
        self.users = users
        self.source = source
    }

    public var id: String { environment.id ?? "" }

    public func isVisible(to user: UserRecord) -> Bool {
        users.map { $0.contains(user.username) } ?? true
    }
}
