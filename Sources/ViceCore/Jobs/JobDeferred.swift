import Foundation

/// Thrown by a job that cannot proceed yet (a deployment waiting for its image to be stored):
/// the job is tried again after `delay` without the wait counting as a failed attempt.
public struct JobDeferred: Error, Sendable, CustomStringConvertible {
    public var delay: TimeInterval
    public var reason: String

    public init(delay: TimeInterval, reason: String) {
        self.delay = delay
        self.reason = reason
    }

    public var description: String { reason }
}
