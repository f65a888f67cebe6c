import Foundation
import HTTPTypes
import Hummingbird
import ViceCore
import Logging

/// Authentication on every route but the public ones (the OpenAPI document, and `POST /v1/user`,
/// where credentials are optional and only checked when sent): HTTP Basic with a password or an
/// API token as the password, or `Authorization: Bearer <token>`. A token's scope is then held
/// against the route's.
struct BasicAuthMiddleware: RouterMiddleware {
    typealias Context = ViceRequestContext
    let registry: Registry

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let route = context.route
        if let header = request.headers[.authorization] {
            let principal: Principal
            var viaToken = true
            if let token = Self.bearer(header) {
                principal = try await registry.authenticate(token: token, username: nil, address: context.clientAddress)
            } else if let (username, password) = Self.parse(header) {
                if Registry.looksLikeToken(password) {
                    principal = try await registry.authenticate(token: password, username: username, address: context.clientAddress)
                } else {
                    viaToken = false
                    let user = try await registry.authenticate(username: username, password: password, address: context.clientAddress)
                    principal = Principal(user: user, scope: Registry.passwordScope(of: user))
                }
            } else {
                throw ViceError(.unauthorized, "the Authorization header is neither HTTP Basic nor a Bearer token")
            }
            try Self.adopt(principal, for: route, viaToken: viaToken, into: &context)
        } else if let route, !route.isPublic, let session = SessionCookie.token(in: request) {
            // The dashboard's script calls the API with the session cookie; what changes
            // something needs the session's CSRF token too (SameSite=Strict already keeps other
            // sites' pages from sending the cookie at all).
            let principal = try await registry.authenticate(token: session, username: nil, address: context.clientAddress)
            if ![.get, .head, .options].contains(request.method),
               !SessionCookie.checks(request.headers[HTTPField.Name(SessionCookie.csrfHeader)!], session: session) {
                throw ViceError(.forbidden, "a request with the dashboard's session cookie needs its \(SessionCookie.csrfHeader) header")
            }
            try Self.adopt(principal, for: route, viaToken: true, into: &context)
        } else if route?.isPublic != true && route != nil {
            throw ViceError(.unauthorized, "authentication required (HTTP Basic or a Bearer token)")
        }
        return try await next(request, context)
    }

    /// Holds the credential's scope against the route's and makes its user, as far as the
    /// credential reaches, the caller.
    static func adopt(_ principal: Principal, for route: APIRoute?, viaToken: Bool, into context: inout Context) throws {
        if let route, principal.scope < route.scope {
            throw ViceError(.forbidden, "this credential's scope is \(principal.scope.rawValue); \(route.operationId) needs \(route.scope.rawValue)")
        }
        context.principal = principal.actingUser
        context.scope = principal.scope
        context.viaToken = viaToken
        context.logger[metadataKey: "user"] = "\(principal.user.id)"
    }

    static func parse(_ header: String) -> (String, String)? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
              let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
              let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    static func bearer(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
    }
}
