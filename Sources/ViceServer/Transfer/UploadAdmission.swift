import ViceCore

/// Bounds uploads in flight: each holds a staging writer thread, a file and a connection, so
/// without a bound a few callers could pin the server. Past a user's share the answer is 429,
/// past the server's 503; both say when to retry.
final class UploadAdmission: Sendable {
    /// Uploads one user may run at once, and all users together.
    let perUser: Int
    let total: Int
    private let running = LockedBox<[String: Int]>([:])

    init(perUser: Int = 4, total: Int = 32) {
        self.perUser = max(1, perUser)
        self.total = max(1, total)
    }

    /// Takes a slot for `userID`, or throws; call `release` when the upload ends.
    func admit(_ userID: String) throws {
        try running.withLock { running in
            if running[userID, default: 0] >= perUser {
                throw ViceError(.tooManyRequests, "you have \(perUser) uploads running, the most one user may; retry when one has finished")
            }
            if running.values.reduce(0, +) >= total {
                throw ViceError(.unavailable, "the registry is taking \(total) uploads at once, its limit; retry shortly")
            }
            running[userID, default: 0] += 1
        }
    }

    func release(_ userID: String) {
        running.withLock { running in
            let left = running[userID, default: 1] - 1
            running[userID] = left > 0 ? left : nil
        }
    }
}
