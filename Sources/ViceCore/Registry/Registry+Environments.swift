import Foundation

extension Registry {
    /// `POST /environments`.
    package func createEnvironment(_ input: Environment, owner: UserRecord) async throws -> Environment {
        try validate(environment: input)
        try Self.validate(members: input.members)
        try options.environmentPolicy.authorize(input, trusted: owner.isAdmin)
        try checkSettings(of: input, owner: owner)
        let now = Date()
        let sealed = try input.credentials.map { try cipher.seal(json: $0) }
        return try await withFreshID { id in
            var environment = input
            environment.id = id
            environment.userid = owner.id
            environment.credentials = nil
            environment.readOnly = nil
            environment.createdAt = now
            environment.updatedAt = now
            let stored = StoredEnvironment(environment: environment, sealedCredentials: sealed)
            try await self.store.write { try $0.insertEnvironment(stored) }
            return try self.render(stored)
        }
    }

    /// `PUT /environments`: fields present in the body replace the stored ones; a credentials
    /// object without a password keeps the stored password.
    package func updateEnvironment(_ input: Environment, owner: UserRecord) async throws -> Environment {
        let id = try Validate.id(input.id, field: "id")
        try refuseChanges(toConfigured: id, owner: owner)
        try Validate.title(input.title)
        let cipher = self.cipher
        let stored = try await store.write { tx -> StoredEnvironment in
            guard var stored = try tx.environment(id: id), owner.mayManage(stored.userid) else {
                throw ViceError.notFound("environment \(id) not found")
            }
            if let title = input.title { stored.environment.title = title }
            if let layer = input.managementlayer { stored.environment.managementlayer = layer }
            if let technology = input.runtimetechnology { stored.environment.runtimetechnology = technology }
            if let members = input.members { stored.environment.members = members }
            if var credentials = input.credentials {
                if credentials.password == nil, let sealed = stored.sealedCredentials {
                    credentials.password = try cipher.open(json: Credentials.self, from: sealed).password
                }
                stored.sealedCredentials = try cipher.seal(json: credentials)
            }
            guard stored.environment.adapterKind != nil else {
                throw ViceError.invalidInput("managementlayer.software is required")
            }
            var changed = stored.environment
            changed.credentials = try stored.sealedCredentials.map { try cipher.open(json: Credentials.self, from: $0) }
            try self.options.environmentPolicy.authorize(changed, trusted: owner.isAdmin)
            try self.checkSettings(of: changed, owner: owner)
            stored.environment.updatedAt = Date()
            try tx.updateEnvironment(stored)
            return stored
        }
        return try render(stored)
    }

    package func environment(id: String, owner: UserRecord) async throws -> Environment {
        if let configured = configuredEnvironment(id: id, visibleTo: owner) { return render(configured) }
        return try render(try await sharedEnvironment(id: id, with: owner), for: owner)
    }

    /// `DELETE /environment/{id}`. Images keep a sealed copy of their origin; deployments into the
    /// environment stay listed, and removing them later only drops the record.
    package func deleteEnvironment(id: String, owner: UserRecord) async throws {
        try refuseChanges(toConfigured: id, owner: owner)
        let kind = try await store.write { tx -> String in
            guard let stored = try tx.environment(id: id), owner.mayManage(stored.userid) else {
                throw ViceError.notFound("environment \(id) not found")
            }
            try tx.deleteEnvironment(id: id)
            return stored.environment.adapterKind ?? "none"
        }
        RegistryMetrics.environmentRemoved(id: id, adapter: kind)
    }

    package func environments(owner: UserRecord, filter: EnvironmentFilter) async throws -> [Environment] {
        var filter = EnvironmentFilter(
            managementLayer: filter.managementLayer?.trimmingCharacters(in: .whitespaces).lowercased().nilIfEmpty,
            runtimeTechnology: filter.runtimeTechnology?.trimmingCharacters(in: .whitespaces).lowercased().nilIfEmpty)
        let configured = configuredEnvironments(visibleTo: owner).filter { filter.matches($0.environment) }.map(render)
        filter.viewer = owner.isAdmin ? nil : owner
        return try await store.read { [filter] in try $0.environments(owner: nil, filter: filter) }
            .map { try render($0, for: owner) } + configured
    }

    /// An environment with its decrypted credentials, for adapters and operators' tools, never for
    /// API responses.
    package func environmentWithCredentials(id: String) async throws -> Environment? {
        if let configured = configuredEnvironment(id: id) { return configured.environment }
        return try await store.read { try $0.environment(id: id) }.map(unsealed)
    }

    /// The caller's own environment, one shared with them, or a configured one the caller may
    /// use, with credentials (for adapters).
    func usableEnvironment(id: String, owner: UserRecord) async throws -> Environment {
        if let configured = configuredEnvironment(id: id, visibleTo: owner) { return configured.environment }
        return try unsealed(try await sharedEnvironment(id: id, with: owner))
    }

    /// A stored environment `user` may use (own, shared with them, or any for an admin); 404 otherwise.
    func sharedEnvironment(id: String, with user: UserRecord) async throws -> StoredEnvironment {
        guard let stored = try await store.read({ try $0.environment(id: id) }), stored.environment.isUsable(by: user) else {
            throw ViceError.notFound("environment \(id) not found")
        }
        return stored
    }

    /// A member's view: no credentials at all, no member list.
    func render(_ stored: StoredEnvironment, for viewer: UserRecord) throws -> Environment {
        guard !viewer.mayManage(stored.userid) else { return try render(stored) }
        var environment = stored.environment
        environment.credentials = nil
        environment.members = nil
        return environment
    }

    /// The environment with its decrypted credentials, for adapters only.
    func unsealed(_ stored: StoredEnvironment) throws -> Environment {
        var environment = stored.environment
        environment.credentials = try stored.sealedCredentials.map { try cipher.open(json: Credentials.self, from: $0) }
        return environment
    }

    /// The API view: credentials without the password.
    func render(_ stored: StoredEnvironment) throws -> Environment {
        try unsealed(stored).redacted
    }

    /// Settings an adapter refuses on its face (a missing Docker location, a unix socket for a
    /// user, a file path in a user's settings, a URL of another scheme) are invalid input now,
    /// not a failed job later. Factories check without contacting anything, so this is cheap.
    func checkSettings(of environment: Environment, owner: UserRecord) throws {
        guard let kind = environment.adapterKind, catalog.descriptor(forKind: kind) != nil else { return }
        do {
            try catalog.checkConfiguration(of: environment, logger: logger,
                                           egress: options.environmentPolicy.egress(trusted: owner.isAdmin), ownerName: owner.username)
        } catch let error as AdapterError where error.code == .invalidConfiguration {
            throw ViceError.invalidInput(error.message)
        } catch {
            // Other failures (a plugin that is down) are the jobs' and health checks' to report.
        }
    }

    func validate(environment: Environment) throws {
        try Validate.title(environment.title)
        guard environment.adapterKind != nil else {
            throw ViceError.invalidInput("managementlayer.software is required (it selects the adapter, e.g. openstack, docker, bwlehrpool)")
        }
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}
