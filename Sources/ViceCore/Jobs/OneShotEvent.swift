/// Something that happens once (a shutdown request); any number of tasks can wait for it.
package final class OneShotEvent: Sendable {
    private let state = LockedBox<(fired: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    package init() {}

    package var hasFired: Bool { state.withLock { $0.fired } }

    package func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard !state.fired else { return [] }
            state.fired = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    package func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.fired { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}
