import Hummingbird
import ViceCore

extension ViceAPI {
    var createEnvironment: Handler {
        decoding(ViceCore.Environment.self, status: .created) { try await registry.createEnvironment($0, owner: $1) }
    }

    func findEnvironments(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let query = Query(request: request)
        let filter = EnvironmentFilter(managementLayer: query.string("filterManagementlayer"),
                                       runtimeTechnology: query.string("filterRuntimetechnology"))
        return try JSONBody.response(try await registry.environments(owner: try context.requirePrincipal(), filter: filter))
    }

    var updateEnvironment: Handler {
        decoding(ViceCore.Environment.self, status: .created) { try await registry.updateEnvironment($0, owner: $1) }
    }

    var getEnvironment: Handler {
        identified(by: "environmentId", kind: "environment") { try await registry.environment(id: $0, owner: $1) }
    }

    var deleteEnvironment: Handler {
        removing(by: "environmentId", kind: "environment") { try await registry.deleteEnvironment(id: $0, owner: $1) }
    }

    var getEnvironmentHealth: Handler {
        identified(by: "environmentId", kind: "environment") { try await registry.environmentHealth(id: $0, owner: $1) }
    }

    var findEnvironmentImages: Handler {
        identified(by: "environmentId", kind: "environment") { try await registry.environmentImages(id: $0, owner: $1) }
    }

    func findAdapters(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        _ = try context.requirePrincipal()
        return try JSONBody.response(registry.adapters())
    }
}
