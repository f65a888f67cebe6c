import Foundation

extension Registry {
    /// The adapter for `environment`, after checking that `owner` may use it now: the per-kind
    /// rule and location patterns for users who are not admins, and an egress policy that grants
    /// loopback and unix sockets only to trusted environments (an admin's, or declared in the
    /// configuration). Every route and job makes its adapters here.
    func adapter(for environment: Environment, ownerID: String?, progress: ProgressReporter = .ignored) async throws -> MeteredAdapter {
        let configured = isConfigured(environment)
        let owner = try await user(id: ownerID)
        // Trust follows whoever defined the environment: a member of an admin's environment uses
        // it as the admin set it up; an admin using a user's environment gains it no reach.
        let definer = environment.userid == ownerID ? owner : try await user(id: environment.userid)
        let trusted = configured || definer?.isAdmin == true
        let policy = options.environmentPolicy
        if !configured { try policy.authorize(environment, trusted: trusted) }
        let adapter = try catalog.makeAdapter(for: environment, logger: logger, egress: policy.egress(trusted: trusted),
                                              ownerName: owner?.username, progress: progress)
        return MeteredAdapter(adapter, environmentID: environment.id)
    }

    /// Whether `environment` is one the configuration declares (never a caller's copy of one).
    func isConfigured(_ environment: Environment) -> Bool {
        guard environment.userid == nil, let id = environment.id else { return false }
        return configuredEnvironment(id: id) != nil
    }

    /// The environment a job of `ownerID` runs against, checked again now: a configured one must
    /// still list the owner in `users:`, a stored one must still be the owner's.
    func environmentForJob(id: String, ownerID: String) async throws -> Environment? {
        let owner = try await user(id: ownerID)
        if let configured = configuredEnvironment(id: id) {
            guard let owner, configured.isVisible(to: owner) else {
                throw ViceError.invalidInput("environment \(id) is no longer available to the owner of this job")
            }
            return configured.environment
        }
        guard let stored = try await store.read({ try $0.environment(id: id) }) else { return nil }
        guard stored.userid == ownerID || owner.map({ stored.environment.isUsable(by: $0) }) == true else {
            throw ViceError.invalidInput("environment \(id) is no longer available to the owner of this job")
        }
        return try unsealed(stored)
    }

    /// The user record with this id, if there is one (nil for nil).
    func user(id: String?) async throws -> UserRecord? {
        guard let id else { return nil }
        return try await store.read { try $0.user(id: id) }
    }
}
