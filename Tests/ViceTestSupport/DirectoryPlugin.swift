import Foundation
import ViceCore

/// examples/external-adapter/directory_adapter.py, running until the test ends.
package final class DirectoryPlugin: @unchecked Sendable {
    package let socket: String
    private let process = Process()
    private let input = Pipe()

    package init(socket: String) async throws {
        self.socket = socket
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [root.appendingPathComponent("examples/external-adapter/directory_adapter.py").path, socket, "--exit-on-stdin-eof"]
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        guard await eventually(timeout: .seconds(20), { FileManager.default.fileExists(atPath: socket) }) else {
            throw ViceError(.internal, "the example plugin did not open \(socket)")
        }
    }

    package func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
