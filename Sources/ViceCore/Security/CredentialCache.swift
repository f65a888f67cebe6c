import Crypto
package import Foundation

/// Remembers recently verified Basic credentials so that bcrypt, not the registry, does not set
/// the request rate. Entries are keyed by an HMAC (with a per-process random key) of username and
/// password, never by the password itself, and carry the password hash they were checked against:
/// when the stored hash changes (password changed, even by another process) the entry no longer
/// matches.
package final class CredentialCache: Sendable {
    struct Entry {
        var userID: String
        var passwordHash: String
        var expires: Date
    }

    private let key = SymmetricKey(size: .bits256)
    private let entries = LockedBox<[Data: Entry]>([:])
    private let lifetime: TimeInterval
    private let capacity: Int

    package init(lifetime: TimeInterval = 300, capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    private func cacheKey(username: String, password: String) -> Data {
        var message = Data(username.utf8)
        message.append(0)
        message.append(contentsOf: password.utf8)
        return Data(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }

    /// Whether this username/password pair was verified recently against exactly `user`'s current hash.
    package func isVerified(username: String, password: String, user: UserRecord, now: Date = Date()) -> Bool {
        let k = cacheKey(username: username, password: password)
        return entries.withLock { entries in
            guard let entry = entries[k] else { return false }
            guard entry.expires > now, entry.userID == user.id, entry.passwordHash == user.passwordHash else {
                entries[k] = nil
                return false
            }
            return true
        }
    }

    package func remember(username: String, password: String, user: UserRecord, now: Date = Date()) {
        let k = cacheKey(username: username, password: password)
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= capacity { entries.removeAll() }
            }
            entries[k] = Entry(userID: user.id, passwordHash: user.passwordHash, expires: now + lifetime)
        }
    }

    /// Drops every entry of a user (called when the password changes in this process).
    package func forget(userID: String) {
        entries.withLock { entries in entries = entries.filter { $0.value.userID != userID } }
    }
}
