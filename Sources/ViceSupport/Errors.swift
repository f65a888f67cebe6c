#if canImport(Glibc)
import Glibc
#endif

/// An error that says whether trying again later may help. The job queue retries only errors
/// that say yes; an error that says nothing is not retried.
public protocol RetryClassifying: Error {
    var isTransient: Bool { get }
}

/// A system call failed: what was being done and `errno`. Transient: a full disk or a busy file
/// may be fine later.
public struct SystemCallError: Error, Sendable, CustomStringConvertible, RetryClassifying {
    public var operation: String
    public var code: Int32

    /// Captures the current `errno`.
    public init(_ operation: String) {
        self.init(operation, code: errno)
    }

    public init(_ operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    public var description: String { "\(operation) failed: \(String(cString: strerror(code)))" }
    public var isTransient: Bool { true }
}

/// A stream brought more bytes than its reader takes.
public struct ByteLimitExceeded: Error, Sendable, CustomStringConvertible, RetryClassifying {
    public var limit: Int
    public init(limit: Int) { self.limit = limit }
    public var description: String { "stream is larger than \(limit) bytes" }
    public var isTransient: Bool { false }
}
