public import Foundation

/// One recorded change or refusal: who, when, what, on which record, and how it ended.
public struct AuditEntry: Sendable, Hashable, Codable {
    public var id: String?
    public var time: Date?
    /// The acting user, when one was authenticated (or named, for failed logins).
    public var userid: String?
    public var username: String?
    /// What was attempted: the API operation (`createEnvironment`, `deployImage`, …) or `login`.
    public var action: String?
    /// The record it concerned, when known (an id from the path or the answer).
    public var subject: String?
    /// `ok`, `refused` (the caller's request was not accepted) or `failed` (the registry's fault).
    public var outcome: String?
    /// The HTTP status of the answer.
    public var status: Int?
    /// The client's address.
    public var address: String?
    /// The refusal's message, bounded.
    public var detail: String?

    public init(id: String? = nil, time: Date? = nil, userid: String? = nil, username: String? = nil, action: String? = nil,
                subject: String? = nil, outcome: String? = nil, status: Int? = nil, address: String? = nil, detail: String? = nil) {
        self.id = id
        self.time = time
        self.userid = userid
        self.username = username
        self.action = action
        self.subject = subject
        self.outcome = outcome
        self.status = status
        self.address = address
        self.detail = detail
    }
}

/// `GET /v1/audit` filters.
public struct AuditQuery: Sendable, Hashable {
    public var username: String?
    public var action: String?
    public var since: Date?
    public var until: Date?
    public var page: PageRequest

    public init(username: String? = nil, action: String? = nil, since: Date? = nil, until: Date? = nil, page: PageRequest = PageRequest()) {
        self.username = username
        self.action = action
        self.since = since
        self.until = until
        self.page = page
    }
}
