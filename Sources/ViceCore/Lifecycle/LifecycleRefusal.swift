/// The status of a record that has a lifecycle, and how that record is called in messages.
package protocol LifecycleStatus: RawRepresentable, Sendable, Hashable where RawValue == String {
    /// "an image", "a deployment".
    static var recordName: String { get }
}

extension ImageStatus: LifecycleStatus {
    package static var recordName: String { "an image" }
}

extension DeploymentStatus: LifecycleStatus {
    package static var recordName: String { "a deployment" }
}

extension JobState: LifecycleStatus {
    package static var recordName: String { "a job" }
}

/// An event a record's status does not allow. Nothing changed.
package struct LifecycleRefusal<Status: LifecycleStatus>: Error, Sendable, Hashable, CustomStringConvertible {
    package var event: String
    package var status: Status

    package init(event: String, status: Status) {
        self.event = event
        self.status = status
    }

    package var description: String { "\(Status.recordName) that is \(status.rawValue) cannot \(event)" }
}
