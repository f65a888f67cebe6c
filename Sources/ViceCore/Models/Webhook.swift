public import Foundation

/// Added to the seed: a URL the registry POSTs the owner's events to, signed with a secret the
/// owner chose (`X-Vice-Signature: sha256=<hex HMAC-SHA256 of the body>`).
public struct Webhook: Sendable, Hashable, Codable {
    public var id: String?
    public var userid: String?
    /// Where events go: `https://` (or `http://`), reachable under the owner's egress policy.
    public var url: String?
    /// The event kinds delivered (`image.status`, `deployment.status`, `job.state`,
    /// `job.progress`); empty or absent: all but `job.progress`.
    public var events: [String]?
    /// Write-only: the HMAC key, 16 to 256 characters. Never answered.
    public var secret: String?
    public var description: String?
    public var createdAt: Date?

    public init(id: String? = nil, userid: String? = nil, url: String? = nil, events: [String]? = nil, secret: String? = nil,
                description: String? = nil, createdAt: Date? = nil) {
        self.id = id
        self.userid = userid
        self.url = url
        self.events = events
        self.secret = secret
        self.description = description
        self.createdAt = createdAt
    }

    /// The kinds this webhook receives.
    package var eventKinds: Set<EventKind> {
        let named = (events ?? []).map { EventKind(rawValue: $0) }
        return named.isEmpty ? [.imageStatus, .deploymentStatus, .jobState] : Set(named)
    }
}

/// A webhook as stored: the public fields (no secret) and the secret sealed by `CredentialCipher`.
public struct StoredWebhook: Sendable, Hashable {
    public var webhook: Webhook
    public var sealedSecret: Data

    public init(webhook: Webhook, sealedSecret: Data) {
        self.webhook = webhook
        self.sealedSecret = sealedSecret
    }

    public var id: String { webhook.id ?? "" }
    public var userid: String { webhook.userid ?? "" }
}
