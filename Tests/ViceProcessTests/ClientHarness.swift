import Foundation
import ViceTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// What a `vice` client command did.
struct ClientResult: Sendable {
    var status: Int32
    var printed: String
    var errors: String

    /// Standard output as JSON (for `-o json`).
    func json() throws -> Any {
        guard let value = try? JSONSerialization.jsonObject(with: Data(printed.utf8)) else {
            throw ProcessTestError(description: "not JSON (status \(status)): \(printed) \(errors)")
        }
        return value
    }

    func object() throws -> [String: Any] {
        guard let object = try json() as? [String: Any] else { throw ProcessTestError(description: "not an object: \(printed)") }
        return object
    }
}

/// Runs the `vice` client as a user would, with its own client configuration file.
struct ClientHarness: Sendable {
    let configFile: String
    let environment: [String: String]

    init(directory: URL, environment: [String: String] = [:]) {
        configFile = directory.appendingPathComponent("client/config.yaml").path
        // No inherited VICE_* variable may change what a test means.
        var base = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("VICE_") || $0.key.hasPrefix("VICE_TEST_") }
        base["VICE_CONFIG"] = configFile
        self.environment = base.merging(environment) { $1 }
    }

    /// Runs `vice arguments…` to its end on a thread of its own; stdout and stderr apart.
    func run(_ arguments: [String], input: String? = nil, environment extra: [String: String] = [:],
             directory: URL? = nil, executable path: String? = nil) async throws -> ClientResult {
        let environment = self.environment.merging(extra) { $1 }
        let executable = try path.map { URL(fileURLWithPath: $0) } ?? viceExecutable()
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result {
                    let process = Process()
                    process.executableURL = executable
                    process.arguments = arguments
                    process.environment = environment
                    if let directory { process.currentDirectoryURL = directory }
                    let out = Pipe(), err = Pipe(), stdin = Pipe()
                    process.standardOutput = out
                    process.standardError = err
                    process.standardInput = stdin
                    try process.run()
                    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
                    try stdin.fileHandleForWriting.close()
                    let errors = Drained { Array(err.fileHandleForReading.readDataToEndOfFile()) }
                    let output = out.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    return ClientResult(status: process.terminationStatus, printed: String(decoding: output, as: UTF8.self),
                                        errors: String(decoding: errors.wait(), as: UTF8.self))
                })
            }
        }
    }

    /// Runs `vice arguments…` with standard error on a pseudo-terminal of `columns` columns (as
    /// a person at a terminal would see it); answers what the terminal showed.
    func runOnTerminal(_ arguments: [String], columns: UInt16 = 100) async throws -> ClientResult {
        let environment = self.environment
        let executable = try viceExecutable()
        return try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result {
                    var master: Int32 = -1, slave: Int32 = -1
                    var size = winsize(ws_row: 24, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
                    guard openpty(&master, &slave, nil, nil, &size) == 0 else {
                        throw ProcessTestError(description: "openpty failed: \(String(cString: strerror(errno)))")
                    }
                    let process = Process()
                    process.executableURL = executable
                    process.arguments = arguments
                    process.environment = environment
                    let out = Pipe()
                    process.standardOutput = out
                    process.standardError = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
                    process.standardInput = FileHandle.nullDevice
                    try process.run()
                    close(slave)   // the child holds it now: reads on master end when the child does
                    let terminal = master
                    let shown = Drained { () -> [UInt8] in
                        var shown: [UInt8] = []
                        var buffer = [UInt8](repeating: 0, count: 4096)
                        while true {
                            let count = read(terminal, &buffer, buffer.count)
                            if count <= 0 { break }   // EIO once the child and its terminal are gone
                            shown += buffer[..<count]
                        }
                        return shown
                    }
                    let output = out.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    let text = shown.wait()
                    close(master)
                    return ClientResult(status: process.terminationStatus, printed: String(decoding: output, as: UTF8.self),
                                        errors: String(decoding: text, as: UTF8.self))
                })
            }
        }
    }
}

/// Bytes read on a thread of their own until `read` returns; `wait()` answers them.
final class Drained: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: [UInt8]?

    init(_ read: @escaping @Sendable () -> [UInt8]) {
        Thread.detachNewThread { [self] in
            let bytes = read()
            condition.lock()
            result = bytes
            condition.signal()
            condition.unlock()
        }
    }

    func wait() -> [UInt8] {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
    }
}

/// A file of random bytes and its SHA-256.
func randomFile(_ url: URL, megabytes: Int) throws -> String {
    let (status, output) = try runProcess(URL(fileURLWithPath: "/bin/sh"),
                                          ["-c", "head -c \(megabytes)M /dev/urandom > '\(url.path)' && sha256sum '\(url.path)'"])
    guard status == 0, let digest = output.split(separator: " ").first else {
        throw ProcessTestError(description: "cannot make \(url.path): \(output)")
    }
    return String(digest)
}

func sha256(of url: URL) throws -> String {
    let (status, output) = try runProcess(URL(fileURLWithPath: "/usr/bin/sha256sum"), [url.path])
    guard status == 0, let digest = output.split(separator: " ").first else { throw ProcessTestError(description: output) }
    return String(digest)
}
