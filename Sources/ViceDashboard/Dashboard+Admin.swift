import Foundation
import Hummingbird
import ViceCore
import ViceServer

extension Dashboard {
    /// The visitor's own tokens (sessions among them), with revoke buttons.
    func accountPage(_ request: Request, _ visitor: Visitor) async throws -> Response {
        let tokens = try await registry.tokens(of: visitor.user)
        let current = visitor.session.split(separator: "_").dropFirst().first.map(String.init)
        let rows: [[HTML]] = tokens.map { token in
            let id = token.id ?? ""
            return [HTML("\(token.name ?? "—")\(id == current ? " (this session)" : "")"), HTML("\(token.scope?.rawValue ?? "—")"),
                    HTML("\(Markup.date(token.createdAt))"), HTML("\(Markup.date(token.expiresAt))"),
                    id == current ? "" : Markup.apiButton("Revoke", method: "DELETE", path: "/v1/user/tokens/\(id)", confirm: "Revoke this token?")]
        }
        let user = visitor.user
        let body: HTML = """
            <h1>Account</h1>
            <dl class="facts"><dt>User name</dt><dd>\(user.username)</dd><dt>Name</dt><dd>\(user.fullname ?? "—")</dd>
            <dt>E-mail</dt><dd>\(user.email ?? "—")</dd><dt>Role</dt><dd>\(user.isAdmin ? "admin" : user.isReader ? "reader" : "user")</dd></dl>
            <h2>API tokens and sessions</h2>
            \(Markup.table(caption: "Your tokens", headers: ["Name", "Scope", "Created", "Expires", ""], rows: rows, empty: "No tokens."))
            """
        return Self.html(Layout.page(title: "Account", visitor: visitor, current: "/ui/account", body: body))
    }

    /// For admins: users, the queues, the latest audit entries.
    func adminPage(_ request: Request, _ visitor: Visitor) async throws -> Response {
        guard visitor.user.isAdmin else { throw ViceError(.forbidden, "only admins see this page") }
        let users = try await registry.users(by: visitor.user)
        let stats = try await registry.runtimeStats()
        let audit = try await registry.auditLog(AuditQuery(page: PageRequest(limit: 50)), by: visitor.user)
        let userRows: [[HTML]] = users.map { user in
            [HTML("\(user.username ?? "—")"), HTML("\(user.fullname ?? "—")"), HTML("\(user.role?.rawValue ?? (user.admin == true ? "admin" : "user"))"),
             HTML("\(user.disabled == true ? "disabled" : "active")"), HTML("\(Markup.date(user.createdAt))")]
        }
        let queues: [[HTML]] = [("import", stats.importsPending, stats.importWorker), ("export", stats.exportsPending, stats.exportWorker),
                                ("store", stats.storePending, stats.storeWorker)].map { [HTML("\($0.0)"), HTML("\($0.1)"), HTML("\($0.2)")] }
        let auditRows: [[HTML]] = audit.items.map { entry in
            [HTML("\(Markup.date(entry.time))"), HTML("\(entry.username ?? "—")"), HTML("\(entry.action ?? "—")"),
             HTML("\(entry.subject ?? "—")"), HTML("\(entry.outcome ?? "—")"), HTML("\(entry.address ?? "—")")]
        }
        let body: HTML = """
            <h1>Administration</h1>
            <h2>Queues</h2>
            \(Markup.table(caption: "Runtime statistics", headers: ["Queue", "Waiting", "Workers"], rows: queues, empty: ""))
            <h2>Users</h2>
            \(Markup.table(caption: "Users", headers: ["User name", "Name", "Role", "State", "Created"], rows: userRows, empty: "No users."))
            <h2>Audit log</h2>
            \(Markup.table(caption: "The latest 50 entries", headers: ["Time", "User", "Action", "Subject", "Outcome", "Address"],
                           rows: auditRows, empty: "Nothing recorded yet."))
            """
        return Self.html(Layout.page(title: "Administration", visitor: visitor, current: "/ui/admin", body: body))
    }
}
