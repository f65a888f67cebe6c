package import Foundation

/// Exponential backoff for transient failures: `base · 2^(attempt-1)`, capped, with ±20 % jitter
/// so that jobs failing together do not retry together.
package struct RetryPolicy: Sendable {
    package var base: TimeInterval
    package var cap: TimeInterval

    package init(base: TimeInterval = 2, cap: TimeInterval = 300) {
        self.base = base
        self.cap = cap
    }

    package func delay(afterAttempt attempt: Int) -> TimeInterval {
        let raw = min(cap, base * pow(2, Double(max(0, attempt - 1))))
        return raw * Double.random(in: 0.8...1.2)
    }

    /// Whether an error is worth retrying: the error says so (`RetryClassifying`: adapters, the
    /// HTTP client, the registry's own unavailable and internal errors). An error nobody
    /// classified is not retried — retrying what is not understood hides bugs and hammers peers.
    package static func isTransient(_ error: any Error) -> Bool {
        (error as? any RetryClassifying)?.isTransient ?? false
    }

    /// Whether the error is one the registry knows how to classify.
    package static func isKnown(_ error: any Error) -> Bool {
        error is any RetryClassifying || error is JobDeferred
    }
}

extension AdapterError: RetryClassifying {}

extension ViceError: RetryClassifying {
    /// A peer that is unavailable, or a fault of this registry (a full disk, a store that failed),
    /// may be better later; anything the caller asked for wrongly is not.
    public var isTransient: Bool { code == .unavailable || code == .internal }
}

extension JobTimeLimitExceeded: RetryClassifying {
    public var isTransient: Bool { false }
}

extension EgressRefusal: RetryClassifying {
    public var isTransient: Bool { false }
}

extension JobParametersUnreadable: RetryClassifying {
    public var isTransient: Bool { false }
}
