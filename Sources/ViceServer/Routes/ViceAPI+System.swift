import Hummingbird
import ViceCore

extension ViceAPI {
    func getRuntimeStats(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        _ = try context.requirePrincipal()
        return try JSONBody.response(try await registry.runtimeStats())
    }

    func createUser(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        // With registration closed, say "authenticate" before looking at the body.
        if !registry.options.openRegistration && context.principal == nil {
            throw ViceError(.unauthorized, "registration is closed: authenticate as an admin")
        }
        let input = try await JSONBody.decode(User.self, from: request)
        // A token below `admin` scope does not carry its owner's admin rights.
        var by = context.principal
        if context.scope.map({ $0 < .admin }) == true { by?.isAdmin = false }
        return try JSONBody.response(try await registry.createUser(input, by: by))
    }

    func getUser(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        try JSONBody.response(try context.requirePrincipal().publicView)
    }

    func getOpenAPIDocument(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.json)))
    }
}
