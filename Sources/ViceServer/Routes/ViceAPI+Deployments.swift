import Hummingbird
import ViceCore

extension ViceAPI {
    var deployImage: Handler {
        decoding(Deployment.self, status: .created) { try await registry.createDeployment($0, owner: $1) }
    }

    func findDeployments(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let page = try await registry.deployments(owner: try context.requirePrincipal(), page: try Query(request: request).page())
        return try JSONBody.response(page.items, headers: page.headers(for: request))
    }

    var getDeployment: Handler {
        identified(by: "deploymentId", kind: "deployment") { try await registry.deployment(id: $0, owner: $1) }
    }

    var deleteDeployment: Handler {
        identified(by: "deploymentId", kind: "deployment") { try await registry.deleteDeployment(id: $0, owner: $1) }
    }
}
