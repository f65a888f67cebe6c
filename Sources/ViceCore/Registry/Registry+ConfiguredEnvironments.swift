import Foundation

extension Registry {
    /// Replaces the environments declared in the configuration (at start and on reload). Jobs
    /// already queued against a removed one fail with "was deleted", as for a deleted record.
    package func replaceConfiguredEnvironments(_ environments: [ConfiguredEnvironment]) {
        var byID: [String: ConfiguredEnvironment] = [:]
        for environment in environments where byID[environment.id] == nil {
            var configured = environment
            configured.environment.readOnly = true
            configured.environment.userid = nil
            byID[environment.id] = configured
        }
        configured.withLock { $0 = byID }
    }

    /// The configured environments, sorted by id.
    package var configuredEnvironments: [ConfiguredEnvironment] {
        configured.withLock { Array($0.values) }.sorted { $0.id < $1.id }
    }

    func configuredEnvironment(id: String) -> ConfiguredEnvironment? {
        configured.withLock { $0[id] }
    }

    func configuredEnvironment(id: String, visibleTo user: UserRecord) -> ConfiguredEnvironment? {
        configuredEnvironment(id: id).flatMap { $0.isVisible(to: user) ? $0 : nil }
    }

    func configuredEnvironments(visibleTo user: UserRecord) -> [ConfiguredEnvironment] {
        configuredEnvironments.filter { $0.isVisible(to: user) }
    }

    /// 405 for changes to a configured environment; unknown to callers who may not see it.
    func refuseChanges(toConfigured id: String?, owner: UserRecord) throws {
        guard let id, let configured = configuredEnvironment(id: id) else { return }
        guard configured.isVisible(to: owner) else { throw ViceError.notFound("environment \(id) not found") }
        throw ViceError.invalidInput(
            "environment \(id) is declared in the configuration (\(configured.source)) and cannot be changed or deleted through the API")
    }

    /// The API view of a configured environment: no password.
    func render(_ configured: ConfiguredEnvironment) -> Environment {
        configured.environment.redacted
    }
}

extension EnvironmentFilter {
    /// The store's filter rule for an environment held in memory: type or software, either case.
    func matches(_ environment: Environment) -> Bool {
        func matches(_ wanted: String?, _ type: String?, _ software: String?) -> Bool {
            guard let wanted else { return true }
            return type?.lowercased() == wanted || software?.lowercased() == wanted
        }
        return matches(managementLayer, environment.managementlayer?.type?.rawValue, environment.managementlayer?.software)
            && matches(runtimeTechnology, environment.runtimetechnology?.type?.rawValue, environment.runtimetechnology?.software)
    }
}
