import Hummingbird
import ViceCore

extension ViceAPI {
    func deployImage(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let input = try await JSONBody.decode(Deployment.self, from: request)
        let created = try await registry.createDeployment(input, owner: try context.requirePrincipal())
        return try JSONBody.response(created, status: .created)
    }

    func findDeployments(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let page = try await registry.deployments(owner: try context.requirePrincipal(), page: try Query(request: request).page())
        return try JSONBody.response(page.items, headers: page.headers(for: request))
    }

    func getDeployment(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let id = try Self.pathID("deploymentId", context, kind: "deployment")
        return try JSONBody.response(try await registry.deployment(id: id, owner: try context.requirePrincipal()))
    }

    func deleteDeployment(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let id = try Self.pathID("deploymentId", context, kind: "deployment")
        return try JSONBody.response(try await registry.deleteDeployment(id: id, owner: try context.requirePrincipal()))
    }
}
