import Foundation

/// A project-scoped Keystone v3 token with the catalog it came with.
struct KeystoneToken: Sendable {
    var value: String
    var expiresAt: Date
    var catalog: [CatalogEntry]

    /// Good for at least `margin` more seconds.
    func isFresh(margin: TimeInterval = 120, now: Date = Date()) -> Bool {
        expiresAt.timeIntervalSince(now) > margin
    }
}

/// One service of the catalog (`token.catalog[]`).
struct CatalogEntry: Sendable, Decodable {
    struct Endpoint: Sendable, Decodable {
        var interface: String
        var region: String?
        var region_id: String?
        var url: String
    }

    var type: String
    var name: String?
    var endpoints: [Endpoint]
}

/// The body of `POST /v3/auth/tokens`' answer, as far as the adapter reads it.
struct KeystoneTokenResponse: Decodable {
    struct Token: Decodable {
        var expires_at: String
        var catalog: [CatalogEntry]?
    }

    var token: Token
}

extension KeystoneToken {
    /// Keystone writes `2026-11-29T06:20:11.000000Z`; the fraction is dropped (a token is refreshed
    /// minutes before it expires, so sub-second precision does not matter).
    static func parseExpiry(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return formatter.date(from: String(text.prefix(19)))
    }
}
