import Foundation

/// Collects what a running job reports and saves it at most once per `interval` (and once at
/// the end), so a transfer of a million chunks costs a few writes a minute, not a million.
final class JobProgressTracker: Sendable {
    struct Snapshot: Sendable, Hashable {
        var phase: JobPhase?
        var done: Int64?
        var total: Int64?
    }

    private struct State {
        var current = Snapshot()
        var saved = Snapshot()
    }

    private let state = LockedBox(State())
    private let interval: Duration
    /// Saves a snapshot; `final` for the last one (after the work ended).
    private let save: @Sendable (Snapshot, _ final: Bool) async -> Void

    init(interval: Duration = .seconds(1), save: @escaping @Sendable (Snapshot, _ final: Bool) async -> Void) {
        self.interval = interval
        self.save = save
    }

    /// What the job's code and its adapter report to.
    var reporter: ProgressReporter {
        ProgressReporter { [state] update in
            state.withLock { state in
                switch update {
                case .phase(let phase):
                    state.current.phase = phase
                case .bytes(let done, let total):
                    state.current.done = done
                    state.current.total = total ?? state.current.total
                }
            }
        }
    }

    /// Runs `body` while saving what it reports.
    func run(_ body: @escaping @Sendable () async throws -> Void) async throws {
        let saver = Task { [interval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { break }
                await self.saveIfChanged(final: false)
            }
        }
        do {
            try await body()
        } catch {
            saver.cancel()
            // The job may be cancelled: the last save runs in a task of its own, after a save
            // still on its way (which would otherwise land after it, with older figures).
            await Task { await saver.value; await self.saveIfChanged(final: true) }.value
            throw error
        }
        saver.cancel()
        await saver.value
        await saveIfChanged(final: true)
    }

    private func saveIfChanged(final: Bool) async {
        let changed = state.withLock { state -> Snapshot? in
            guard state.current != state.saved else { return nil }
            state.saved = state.current
            return state.current
        }
        if let changed { await save(changed, final) }
    }
}
