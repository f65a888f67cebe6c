import Hummingbird
import ViceCore

extension ViceAPI {
    func createEnvironment(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let input = try await JSONBody.decode(ViceCore.Environment.self, from: request)
        let created = try await registry.createEnvironment(input, owner: try context.requirePrincipal())
        return try JSONBody.response(created, status: .created)
    }

    func findEnvironments(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let query = Query(request: request)
        let filter = EnvironmentFilter(managementLayer: query.string("filterManagementlayer"),
                                       runtimeTechnology: query.string("filterRuntimetechnology"))
        return try JSONBody.response(try await registry.environments(owner: try context.requirePrincipal(), filter: filter))
    }

    func updateEnvironment(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let input = try await JSONBody.decode(ViceCore.Environment.self, from: request)
        let updated = try await registry.updateEnvironment(input, owner: try context.requirePrincipal())
        return try JSONBody.response(updated, status: .created)
    }

    func getEnvironment(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let id = try Self.pathID("environmentId", context, kind: "environment")
        return try JSONBody.response(try await registry.environment(id: id, owner: try context.requirePrincipal()))
    }

    func deleteEnvironment(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let id = try Self.pathID("environmentId", context, kind: "environment")
        try await registry.deleteEnvironment(id: id, owner: try context.requirePrincipal())
        return try JSONBody.response(["message": "environment \(id) deleted"])
    }

    func getEnvironmentHealth(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let id = try Self.pathID("environmentId", context, kind: "environment")
        return try JSONBody.response(try await registry.environmentHealth(id: id, owner: try context.requirePrincipal()))
    }

    func findEnvironmentImages(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let id = try Self.pathID("environmentId", context, kind: "environment")
        return try JSONBody.response(try await registry.environmentImages(id: id, owner: try context.requirePrincipal()))
    }

    func findAdapters(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        _ = try context.requirePrincipal()
        return try JSONBody.response(registry.adapters())
    }
}
