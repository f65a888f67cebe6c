import Foundation
package import ViceCore

/// Blob leases every node sees, for an object store several nodes share: kept in the database.
/// A commit inserts a lease row before it copies bytes into place and deletes it once the image
/// is recorded; a delete inserts a deletion row (when no lease row holds the digest), asks the
/// metadata, removes the blob and deletes the row. Leases wait while a deletion row stands, so a
/// commit either stops the delete or copies after the removal. Both kinds of row expire (a node
/// that died holding one), leases after an hour, deletions after ten minutes.
package final class PostgresBlobLeases: BlobLeaseKeeper {
    private let store: PostgresStore
    private let leaseLifetime: TimeInterval = 3600
    private let deletionLifetime: TimeInterval = 600

    package init(store: PostgresStore) {
        self.store = store
    }

    package func lease(_ blob: BlobRef, while body: @Sendable () async throws -> Void) async throws -> BlobLease {
        let id = IDGenerator.make(length: 24)
        while true {
            let leaseLifetime = self.leaseLifetime
            let taken = try await store.transaction(begin: "BEGIN", lock: false) { sql -> Bool in
                let now = Date().timeIntervalSince1970
                try sql.run("SELECT pg_advisory_xact_lock(hashtext(?))", [blob.digest])
                if try sql.row("SELECT 1 AS x FROM blob_deletions WHERE digest = ? AND expires_at > ?", [blob.digest, now]) != nil {
                    return false
                }
                try sql.run("INSERT INTO blob_leases (id, digest, expires_at) VALUES (?, ?, ?)", [id, blob.digest, now + leaseLifetime])
                return true
            }
            if taken { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let store = self.store
        let lease = BlobLease(blob: blob) {
            Task { _ = try? await store.statement { try $0.run("DELETE FROM blob_leases WHERE id = ?", [id]) } }
        }
        return try await lease.holding(while: body)
    }

    package func delete(_ digest: String, ifUnused isUnused: @Sendable () async throws -> Bool,
                        remove: @Sendable () async throws -> Void) async throws -> Bool {
        let deletionLifetime = self.deletionLifetime
        let begun = try await store.transaction(begin: "BEGIN", lock: false) { sql -> Bool in
            let now = Date().timeIntervalSince1970
            try sql.run("SELECT pg_advisory_xact_lock(hashtext(?))", [digest])
            if try sql.row("SELECT 1 AS x FROM blob_leases WHERE digest = ? AND expires_at > ?", [digest, now]) != nil { return false }
            if try sql.row("SELECT 1 AS x FROM blob_deletions WHERE digest = ? AND expires_at > ?", [digest, now]) != nil { return false }
            try sql.run("""
                INSERT INTO blob_deletions (digest, expires_at) VALUES (?, ?)
                ON CONFLICT (digest) DO UPDATE SET expires_at = excluded.expires_at
                """, [digest, now + deletionLifetime])
            return true
        }
        guard begun else { return false }
        let end = { [store] in
            _ = try? await store.statement { try $0.run("DELETE FROM blob_deletions WHERE digest = ?", [digest]) }
        }
        do {
            guard try await isUnused() else {
                await end()
                return false
            }
            try await remove()
        } catch {
            await end()
            throw error
        }
        await end()
        return true
    }
}
