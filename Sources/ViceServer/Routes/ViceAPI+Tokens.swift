import Hummingbird
import ViceCore

extension ViceAPI {
    /// `POST /v1/user/tokens`: a named token with a scope and an expiry; its secret is in this
    /// answer only.
    func createToken(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let input = try await JSONBody.decode(APIToken.self, from: request)
        let user = try context.requirePrincipal()
        // A token that mints tokens would outlive its own revocation.
        guard !context.viaToken else { throw ViceError(.forbidden, "tokens are created with a password, not with another token") }
        let principal = Principal(user: user, scope: context.scope ?? Registry.passwordScope(of: user))
        return try JSONBody.response(try await registry.createToken(input, by: principal), status: .created)
    }

    /// `GET /v1/user/tokens`: the caller's tokens, without secrets.
    func findTokens(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        try JSONBody.response(try await registry.tokens(of: try context.requirePrincipal()))
    }

    /// `DELETE /v1/user/tokens/{tokenId}`: revoked at once.
    var deleteToken: Handler {
        removing(by: "tokenId", kind: "token", done: "revoked") { try await registry.deleteToken(id: $0, of: $1) }
    }
}
