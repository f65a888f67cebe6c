import Foundation
import Testing
import ViceCore

/// Backoff and which errors are worth another attempt.
@Suite struct RetryPolicyTests {
    @Test func theDelayDoublesUpToTheCapWithTwentyPercentJitter() {
        let policy = RetryPolicy(base: 2, cap: 30)
        for (attempt, nominal) in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (5, 30.0), (12, 30.0)] {
            for _ in 0..<50 {
                let delay = policy.delay(afterAttempt: attempt)
                #expect(delay >= nominal * 0.8 && delay <= nominal * 1.2, "attempt \(attempt): \(delay)")
            }
        }
        #expect((1...100).map { _ in policy.delay(afterAttempt: 3) }.contains { $0 != 8 }, "jitter spreads retries")
    }

    @Test func errorsSayWhetherTheyAreTransient() {
        #expect(RetryPolicy.isTransient(AdapterError(.unavailable, "down")))
        #expect(RetryPolicy.isTransient(AdapterError(.timeout, "slow")))
        #expect(RetryPolicy.isTransient(AdapterError(.remoteError, "5xx", transient: true)))
        #expect(!RetryPolicy.isTransient(AdapterError(.authenticationFailed, "no")))
        #expect(!RetryPolicy.isTransient(AdapterError(.notFound, "gone")))
        #expect(RetryPolicy.isTransient(ViceError(.unavailable, "busy")))
        #expect(RetryPolicy.isTransient(ViceError(.internal, "disk full")))
        #expect(!RetryPolicy.isTransient(ViceError.invalidInput("wrong")))
        #expect(RetryPolicy.isTransient(SystemCallError("write", code: 28)))
        #expect(!RetryPolicy.isTransient(ByteLimitExceeded(limit: 10)))
        #expect(!RetryPolicy.isTransient(EgressRefusal("link-local")))
        #expect(!RetryPolicy.isTransient(JobTimeLimitExceeded(limit: .seconds(1))))
    }

    @Test func anErrorNobodyClassifiedIsNotRetriedAndIsMarkedUnknown() {
        struct Surprise: Error {}
        #expect(!RetryPolicy.isTransient(Surprise()))
        #expect(!RetryPolicy.isKnown(Surprise()))
        #expect(RetryPolicy.isKnown(JobDeferred(delay: 1, reason: "later")))
        #expect(RetryPolicy.isKnown(AdapterError(.notFound, "x")))
    }
}
