import Foundation

/// Runs a program to its end with its output discarded; throws when it exits non-zero.
package func runProgram(_ executable: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw TestbedError("\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
    }
}
