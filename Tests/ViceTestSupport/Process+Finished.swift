import Foundation

extension Process {
    /// Waits for the process to end on a thread of its own. `waitUntilExit()` in a test holds
    /// one of the cooperative pool's two threads for as long as the child runs (a 4 GiB upload:
    /// many seconds), and the tests running beside it starve — a peer with a read timeout then
    /// drops their connection.
    package func finished() async {
        nonisolated(unsafe) let process = self
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                process.waitUntilExit()
                continuation.resume()
            }
        }
    }
}
