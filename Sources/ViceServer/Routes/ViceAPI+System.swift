import Foundation
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
        // (A token below `admin` scope reaches here without its owner's admin flag: BasicAuthMiddleware.)
        return try JSONBody.response(try await registry.createUser(input, by: context.principal))
    }

    func getUser(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        try JSONBody.response(try context.requirePrincipal().publicView)
    }

    /// `GET /v1/users`: every user, for admins.
    func findUsers(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        try JSONBody.response(try await registry.users(by: try context.requirePrincipal()))
    }

    /// `PUT /v1/user/{userId}`: for admins; role, disabled, email, full name.
    func updateUser(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let id = try Self.pathID("userId", context, kind: "user")
        let input = try await JSONBody.decode(User.self, from: request)
        return try JSONBody.response(try await registry.updateUser(id: id, input, by: try context.requirePrincipal()))
    }

    /// `DELETE /v1/user/{userId}`: for admins; refused while the user owns records.
    var deleteUser: Handler {
        removing(by: "userId", kind: "user") { try await registry.deleteUser(id: $0, by: $1) }
    }

    func getOpenAPIDocument(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.json)))
    }
}

extension ViceAPI {
    /// `GET /v1/audit`: the audit log for admins, newest first, paged (`limit`, `marker`), filtered
    /// by `user`, `action`, `since` and `until` (ISO 8601).
    func findAuditEntries(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let query = Query(request: request)
        func date(_ name: String) throws -> Date? {
            guard let text = query.string(name) else { return nil }
            guard let date = ISO8601DateFormatter().date(from: text) else {
                throw ViceError.invalidInput("\(name) must be an ISO 8601 time such as 2026-12-01T12:00:00Z")
            }
            return date
        }
        let audit = AuditQuery(username: query.string("user"), action: query.string("action"),
                               since: try date("since"), until: try date("until"), page: try query.page())
        let page = try await registry.auditLog(audit, by: try context.requirePrincipal())
        return try JSONBody.response(page.items, headers: page.headers(for: request))
    }
}
