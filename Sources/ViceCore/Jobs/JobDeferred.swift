package import Foundation

/// Thrown by a job that cannot proceed yet (a deployment waiting for its image to be stored):
/// the job is tried again after `delay` without the wait counting as a failed attempt.
package struct JobDeferred: Error, Sendable, CustomStringConvertible {
    package var delay: TimeInterval
    package var reason: String

    package init(delay: TimeInterval, reason: String) {
        self.delay = delay
        self.reason = reason
    }

    package var description: String { reason }
}
