import Hummingbird
import ViceCore

/// Records every request that changes something (all but GET, HEAD and OPTIONS) in the audit
/// log: who, the operation, the record in the path, the status and, for refusals, why. Failed
/// logins are recorded by the registry itself.
struct AuditMiddleware: RouterMiddleware {
    typealias Context = ViceRequestContext
    let registry: Registry

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard ![.get, .head, .options].contains(request.method),
              let route = context.route else {
            return try await next(request, context)
        }
        let subject = Self.pathParameter(route: route, path: request.uri.path)
        var entry = AuditEntry(userid: context.principal?.id, username: context.principal?.username, action: route.operationId,
                               subject: subject, address: context.clientAddress)
        do {
            let response = try await next(request, context)
            entry.status = Int(response.status.code)
            entry.outcome = response.status.code < 400 ? "ok" : response.status.code < 500 ? "refused" : "failed"
            await registry.recordAudit(entry)
            return response
        } catch {
            // The status the caller gets, and for refusals why (a server fault keeps its words to the log).
            let answer = ErrorMiddleware.answer(for: error, requestID: context.id)
            entry.status = Int(answer.status.code)
            entry.outcome = answer.status.code < 500 ? "refused" : "failed"
            if answer.status.code < 500 { entry.detail = answer.message }
            await registry.recordAudit(entry)
            throw error
        }
    }

    /// The `{…}` segment of the path, read from the request's path (middleware runs before the
    /// router fills `parameters`).
    static func pathParameter(route: APIRoute, path: String) -> String? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard route.segments.count == segments.count else { return nil }
        return zip(route.segments, segments).first { $0.0.hasPrefix("{") }.map { String($0.1) }
    }
}
