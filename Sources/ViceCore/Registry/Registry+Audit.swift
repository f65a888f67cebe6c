import Foundation
import Logging

extension Registry {
    /// Records one entry of the audit log. The log must never take a request down with it: a
    /// failure to write is logged and the request goes on.
    package func recordAudit(_ entry: AuditEntry) async {
        var entry = entry
        entry.id = IDGenerator.make()
        entry.time = entry.time ?? Date()
        entry.detail = entry.detail.map { RemoteText.excerpt($0, limit: 500) }
        entry.username = entry.username.map { RemoteText.excerpt($0, limit: 64) }
        do {
            try await store.write { [entry] in try $0.insertAuditEntry(entry) }
        } catch {
            logger.error("cannot write the audit log: \(error)")
        }
    }

    /// `GET /v1/audit`, for admins: newest first, paged, filtered.
    package func auditLog(_ query: AuditQuery, by principal: UserRecord) async throws -> Page<AuditEntry> {
        guard principal.isAdmin else { throw ViceError(.forbidden, "only admins read the audit log") }
        try Validate.pageLimit(query.page)
        let rows = try await store.read { [query] in try $0.auditEntries(query) }
        return rows.paged(query.page) { $0.id ?? "" }
    }
}
