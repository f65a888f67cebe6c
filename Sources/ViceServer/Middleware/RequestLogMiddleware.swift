import Hummingbird
import Logging
import ViceCore

/// One log line per request: method, path (never the query's values or any header), status and
/// duration, tagged with Hummingbird's request id. Authenticated handlers' own log lines also
/// carry the user id (set by `BasicAuthMiddleware`).
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = ViceRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let milliseconds = (ContinuousClock.now - start).inSeconds * 1000
        context.logger.info("request", metadata: [
            "method": "\(request.method)",
            "path": "\(request.uri.path)",
            "status": "\(response.status.code)",
            "ms": "\((milliseconds * 10).rounded() / 10)",
        ])
        return response
    }
}
