import Foundation

/// Exponential backoff for transient failures: `base · 2^(attempt-1)`, capped, with ±20 % jitter
/// so that jobs failing together do not retry together.
public struct RetryPolicy: Sendable {
    public var base: TimeInterval
    public var cap: TimeInterval

    public init(base: TimeInterval = 2, cap: TimeInterval = 300) {
        self.base = base
        self.cap = cap
    }

    public func delay(afterAttempt attempt: Int) -> TimeInterval {
        let raw = min(cap, base * pow(2, Double(max(0, attempt - 1))))
        return raw * Double.random(in: 0.8...1.2)
    }

    /// Whether an error is worth retrying: adapters and the registry say so explicitly; unknown
    /// errors (I/O, network) are treated as transient, bounded by the job's attempts.
    public static func isTransient(_ error: any Error) -> Bool {
        if let error = error as? AdapterError { return error.isTransient }
        if error is JobTimeLimitExceeded || error is EgressRefusal { return false }
        if let error = error as? ViceError { return error.code == .unavailable || error.code == .internal }
        return true
    }
}
