package import Foundation

/// What happened, as `GET /v1/events` streams it and webhooks deliver it.
public struct EventKind: RawRepresentable, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// An image's status changed (or it was created or deleted).
    public static let imageStatus = EventKind(rawValue: "image.status")
    /// A deployment's status changed (or it was created or removed).
    public static let deploymentStatus = EventKind(rawValue: "deployment.status")
    /// A job was queued, started, or ended.
    public static let jobState = EventKind(rawValue: "job.state")
    /// A running job moved bytes or changed phase (at most about once a second per job).
    public static let jobProgress = EventKind(rawValue: "job.progress")

    public static let allCases: [EventKind] = [.imageStatus, .deploymentStatus, .jobState, .jobProgress]
}

/// One recorded event. `seq` orders all events of the registry and is the SSE event id.
package struct RegistryEvent: Sendable, Hashable {
    package var seq: Int64
    package var time: Date
    package var kind: EventKind
    /// Whose event it is: only they (and admins) see it.
    package var ownerID: String?
    /// The image, deployment or job it is about.
    package var subjectID: String
    /// The event's body: the subject as the API shows it (a JSON object).
    package var data: JSONValue

    package init(seq: Int64 = 0, time: Date = Date(), kind: EventKind, ownerID: String?, subjectID: String, data: JSONValue) {
        self.seq = seq
        self.time = time
        self.kind = kind
        self.ownerID = ownerID
        self.subjectID = subjectID
        self.data = data
    }
}
