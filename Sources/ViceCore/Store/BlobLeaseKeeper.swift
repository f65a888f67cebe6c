package import Foundation

/// Leases of digests for stores whose commits put bytes in place with a request that may take a
/// while (a copy inside an object store), so that neither side can hold a lock across it. A
/// commit leases its digest before the copy; a delete marks the digest, asks the metadata, and,
/// when nobody holds it, removes it while new leases wait — so a commit either spoils the delete
/// or copies after the removal, and a recorded image never points at a removed blob.
package protocol BlobLeaseKeeper: Sendable {
    /// Takes a lease on `blob.digest` (waiting while a removal of it runs), then runs `body`.
    func lease(_ blob: BlobRef, while body: @Sendable () async throws -> Void) async throws -> BlobLease
    /// Runs `remove` when no lease holds `digest`, `isUnused` says so, and no lease was taken
    /// meanwhile. Returns whether `remove` ran.
    func delete(_ digest: String, ifUnused isUnused: @Sendable () async throws -> Bool,
                remove: @Sendable () async throws -> Void) async throws -> Bool
}

/// Leases for one process (a single node): kept in memory.
package final class LocalBlobLeaseKeeper: BlobLeaseKeeper {
    private struct Entry {
        var leases = 0
        var deletions: [Int: Bool] = [:]
        var removing = false
        var isIdle: Bool { leases == 0 && deletions.isEmpty && !removing }
    }
    private let entries = LockedBox<[String: Entry]>([:])
    private let tickets = LockedBox(0)

    package init() {}

    package func lease(_ blob: BlobRef, while body: @Sendable () async throws -> Void) async throws -> BlobLease {
        while true {
            let taken = entries.withLock { entries -> Bool in
                var entry = entries[blob.digest] ?? Entry()
                guard !entry.removing else { return false }
                entry.leases += 1
                for key in entry.deletions.keys { entry.deletions[key] = true }
                entries[blob.digest] = entry
                return true
            }
            if taken { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let lease = BlobLease(blob: blob) { [entries] in
            entries.withLock { entries in
                guard var entry = entries[blob.digest] else { return }
                entry.leases = max(0, entry.leases - 1)
                entries[blob.digest] = entry.isIdle ? nil : entry
            }
        }
        return try await lease.holding(while: body)
    }

    package func delete(_ digest: String, ifUnused isUnused: @Sendable () async throws -> Bool,
                        remove: @Sendable () async throws -> Void) async throws -> Bool {
        let ticket = tickets.withLock { next -> Int in next += 1; return next }
        let begun = entries.withLock { entries -> Bool in
            var entry = entries[digest] ?? Entry()
            guard entry.leases == 0, !entry.removing else { return false }
            entry.deletions[ticket] = false
            entries[digest] = entry
            return true
        }
        guard begun else { return false }
        func end(removing: Bool) {
            entries.withLock { entries in
                entries[digest]?.deletions[ticket] = nil
                entries[digest]?.removing = removing
                if entries[digest]?.isIdle == true { entries[digest] = nil }
            }
        }
        let unused: Bool
        do {
            unused = try await isUnused()
        } catch {
            end(removing: false)
            throw error
        }
        let go = entries.withLock { entries -> Bool in
            let spoiled = entries[digest]?.deletions[ticket] ?? true
            entries[digest]?.deletions[ticket] = nil
            guard unused, !spoiled else {
                if entries[digest]?.isIdle == true { entries[digest] = nil }
                return false
            }
            entries[digest]?.removing = true
            return true
        }
        guard go else { return false }
        defer { end(removing: false) }
        try await remove()
        return true
    }
}

extension BlobLease {
    /// Runs `body` (putting the bytes in place) under this lease; releases it when `body` throws.
    package func holding(while body: @Sendable () async throws -> Void) async throws -> BlobLease {
        do {
            try await body()
        } catch {
            release()
            throw error
        }
        return self
    }
}
