import Foundation

/// The caller's events, for `GET /v1/events`: every event is recorded with the change it tells of
/// (`EventedStore`), so a stream resumed with `Last-Event-ID` misses nothing still retained.
extension Registry {
    /// Events after `seq` the caller may see (their own; an admin's stream shows everyone's), of
    /// `kinds` (empty: all), oldest first, at most `limit`; and the seq read up to, to resume from
    /// (past events of other kinds or owners, so a filtered stream does not read them again).
    package func events(after seq: Int64, kinds: Set<EventKind>, owner: UserRecord, limit: Int = 200) async throws
        -> (events: [RegistryEvent], through: Int64) {
        let rows = try await store.read { try $0.events(after: seq, ownerID: owner.listedOwner, limit: limit) }
        let through = rows.last?.seq ?? seq
        return (kinds.isEmpty ? rows : rows.filter { kinds.contains($0.kind) }, through)
    }

    /// The newest event's seq: where a stream opened without `Last-Event-ID` starts.
    package func lastEventSeq() async throws -> Int64 {
        try await store.read { try $0.lastEventSeq() }
    }

    /// Whether `user` may still read events: an open stream of a user who was disabled,
    /// deleted or demoted since it opened ends.
    package func mayStillStream(_ user: UserRecord) async -> Bool {
        guard let current = try? await store.read({ try $0.user(id: user.id) }) else { return false }
        return !current.isDisabled && current.isAdmin == user.isAdmin
    }

    /// Returns when events may have been recorded, or after `timeout`.
    package func waitForEvents(timeout: Duration) async {
        await events.wait(timeout: timeout)
    }
}
