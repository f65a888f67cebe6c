import Dispatch

/// Runs blocking system calls (file I/O, fsync) on threads of their own, never on Swift's
/// cooperative pool, whose two threads on a small machine would otherwise stall every task.
public enum BlockingIO {
    private static let queue = DispatchQueue(label: "vice.blocking-io", qos: .utility, attributes: .concurrent)

    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
