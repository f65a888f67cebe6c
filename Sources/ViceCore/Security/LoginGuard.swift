package import Foundation

/// How much guessing a login endpoint tolerates.
package struct LoginLimits: Sendable, Hashable {
    /// Failed logins per user name, and per client address, within `window` before 429.
    package var failuresPerUser: Int
    package var failuresPerAddress: Int
    package var window: TimeInterval
    /// bcrypt verifications running at once, and waiting; past both the answer is 503.
    package var concurrentVerifications: Int
    package var queuedVerifications: Int

    package init(failuresPerUser: Int = 10, failuresPerAddress: Int = 50, window: TimeInterval = 300,
                concurrentVerifications: Int = 4, queuedVerifications: Int = 64) {
        self.failuresPerUser = failuresPerUser
        self.failuresPerAddress = failuresPerAddress
        self.window = window
        self.concurrentVerifications = concurrentVerifications
        self.queuedVerifications = queuedVerifications
    }
}

/// Counts failed logins per user name and per client address in a sliding window, and bounds the
/// bcrypt work that logins may queue: guessing is slowed to the limits, and a flood of wrong
/// passwords cannot make every other login wait.
package final class LoginGuard: Sendable {
    package let limits: LoginLimits
    private let failures = LockedBox<[String: [Date]]>([:])
    private let gate: VerificationGate
    /// Keys tracked at most (old entries are dropped first): the table cannot be grown without bound.
    static let capacity = 100_000

    package init(limits: LoginLimits = LoginLimits()) {
        self.limits = limits
        gate = VerificationGate(running: limits.concurrentVerifications, waiting: limits.queuedVerifications)
    }

    /// Throws 429 (with the seconds until a retry can succeed) when either count is full.
    package func checkAllowed(username: String, address: String?, now: Date = Date()) throws {
        for (key, limit) in keys(username: username, address: address) {
            let recent = failures.withLock { table -> [Date] in
                let kept = (table[key] ?? []).filter { now.timeIntervalSince($0) < limits.window }
                table[key] = kept.isEmpty ? nil : kept
                return kept
            }
            if recent.count >= limit, let oldest = recent.first {
                let wait = max(1, Int((limits.window - now.timeIntervalSince(oldest)).rounded(.up)))
                var error = ViceError(.tooManyRequests, "too many failed logins; try again in \(wait) s")
                error.retryAfter = wait
                throw error
            }
        }
    }

    package func recordFailure(username: String, address: String?, now: Date = Date()) {
        failures.withLock { table in
            if table.count >= Self.capacity {
                table = table.filter { $0.value.contains { now.timeIntervalSince($0) < limits.window } }
                if table.count >= Self.capacity { table.removeAll() }
            }
            for (key, limit) in keys(username: username, address: address) {
                var list = table[key] ?? []
                list.append(now)
                if list.count > limit { list.removeFirst(list.count - limit) }
                table[key] = list
            }
        }
    }

    /// A correct password clears the user name's count (not the address's).
    package func recordSuccess(username: String) {
        failures.withLock { $0["user:" + username.lowercased()] = nil }
    }

    /// Runs one password verification through the bounded queue.
    package func verify<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await gate.run(body)
    }

    private func keys(username: String, address: String?) -> [(String, Int)] {
        var keys = [("user:" + username.lowercased(), limits.failuresPerUser)]
        if let address { keys.append(("address:" + address, limits.failuresPerAddress)) }
        return keys
    }
}

/// At most `running` bodies at once and `waiting` in line; more are refused with 503.
final class VerificationGate: Sendable {
    private struct State {
        var running = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = LockedBox(State())
    private let running: Int
    private let waiting: Int

    init(running: Int, waiting: Int) {
        self.running = max(1, running)
        self.waiting = max(0, waiting)
    }

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        enum Decision { case go, wait, refuse }
        let decision = state.withLock { state -> Decision in
            if state.running < running {
                state.running += 1
                return .go
            }
            return state.waiters.count < waiting ? .wait : .refuse
        }
        switch decision {
        case .go: return
        case .refuse:
            var error = ViceError(.unavailable, "the registry is checking too many passwords at once; retry shortly")
            error.retryAfter = 2
            throw error
        case .wait:
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    // A slot may have come free between the decision and now.
                    if state.running < running {
                        state.running += 1
                        return true
                    }
                    state.waiters.append(continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.running -= 1
                return nil
            }
            return state.waiters.removeFirst()   // the slot passes straight to the next in line
        }
        next?.resume()
    }
}
