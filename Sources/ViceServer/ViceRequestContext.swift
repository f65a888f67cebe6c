package import Hummingbird
package import ViceCore

/// The per-request context: Hummingbird's core storage plus the authenticated user.
package struct ViceRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// The operation the request is for, found once by `MethodCheck` (nil for unknown paths).
    package var route: APIRoute?
    /// The routes of the request's path (any method), looked up once by `MetricsMiddleware`
    /// for its label and used by `MethodCheck`; nil until looked up.
    var pathRoutes: [APIRoute]?
    /// Set by `BasicAuthMiddleware` once the caller's credentials check out.
    package var principal: UserRecord?
    /// How far the caller's credentials reach: a token's scope, or what a password grants.
    package var scope: TokenScope?
    /// Whether the caller sent an API token rather than a password.
    package var viaToken = false
    /// The client's address (the peer of the connection), for login limits and logs.
    package let clientAddress: String?

    package init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The authenticated user; routes behind the auth middleware always have one.
    func requirePrincipal() throws -> UserRecord {
        guard let principal else { throw ViceError(.unauthorized, "authentication required") }
        return principal
    }
}
