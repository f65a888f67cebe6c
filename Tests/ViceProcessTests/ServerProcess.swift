import Foundation
import ViceTestSupport

/// Errors of the process harness.
struct ProcessTestError: Error, CustomStringConvertible {
    var description: String
}

/// The `vice` executable built next to the tests (script/test builds it before running them).
func viceExecutable() throws -> URL {
    let candidates = [
        ProcessInfo.processInfo.environment["VICE_EXECUTABLE"].map { URL(fileURLWithPath: $0) },
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vice"),
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/vice"),
    ].compactMap { $0 }
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
        throw ProcessTestError(description: "the vice executable was not found (build it with `swift build`); looked at \(candidates.map(\.path))")
    }
    return found
}

/// Runs `vice` with arguments and returns its exit status and output.
func runVice(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil,
             input: String? = nil) throws -> (status: Int32, output: String) {
    try runProcess(try viceExecutable(), arguments, environment: environment, directory: directory, input: input)
}

/// Runs a program to its end, feeding `input` on standard input; returns its status and output.
func runProcess(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil,
                input: String? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    if let directory { process.currentDirectoryURL = directory }
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    let stdin = Pipe()
    process.standardInput = stdin
    try process.run()
    if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    try stdin.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A `vice serve` process in its own directory, with a configuration written for the test.
final class ServerProcess: @unchecked Sendable {
    let directory: URL
    let process = Process()
    private let outputLines = LockedLines()
    private(set) var port = 0
    private(set) var scheme = "http"
    /// The CA file curl trusts for an HTTPS server.
    var caBundle: String?
    /// Where the server's log lines (standard error) go.
    let logFile: URL

    /// `adapters`: more lines of the `adapters:` section, indented by two spaces.
    /// `workers`: the lines of the `workers:` section, indented by two spaces.
    static func writeConfiguration(in directory: URL, extra: String = "", adapters: String = "", server: String = "",
                                   workers: String = "  import: 2\n  export: 2\n  store: 1\n  shutdownGraceSeconds: 30") throws {
        let yaml = """
            server:
              host: 127.0.0.1
              port: 0
            \(server)
            workers:
            \(workers)
            security:
              bcryptCost: 4
            adapters:
              memory:
                enabled: true
            \(adapters)
            logging:
              level: notice
            \(extra)
            """
        try yaml.write(to: directory.appendingPathComponent("vice.yaml"), atomically: true, encoding: .utf8)
    }

    /// Starts the server and waits until it listens.
    init(directory: URL, environment: [String: String] = ["VICE_ADMIN_PASSWORD": "admin-password"]) async throws {
        self.directory = directory
        process.executableURL = try viceExecutable()
        process.arguments = ["serve", "--config", "vice.yaml"]
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let stdout = Pipe()
        process.standardOutput = stdout
        let logFile = directory.appendingPathComponent("server-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: logFile)
        self.logFile = logFile
        let lines = outputLines
        stdout.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { lines.append(String(decoding: data, as: UTF8.self)) }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if let line = outputLines.text.split(separator: "\n").first(where: { $0.hasPrefix("vice listening on http") }),
               let port = Int(line.split(separator: ":").last ?? "") {
                self.port = port
                scheme = line.hasPrefix("vice listening on https://") ? "https" : "http"
                return
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw ProcessTestError(description: "vice serve did not start; output: \(outputLines.text)")
    }

    var output: String { outputLines.text }
    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit and returns its status.
    func waitForExit(timeout: TimeInterval = 60) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        guard !process.isRunning else {
            process.terminate()
            throw ProcessTestError(description: "vice did not exit within \(timeout) s")
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Sends a request with Basic credentials (through the curl command: a client independent of
    /// the registry's code) and returns the status and JSON body.
    func request(_ method: String, _ path: String, user: String = "admin", password: String = "admin-password",
                 json: String? = nil) async throws -> (status: Int, body: Any?) {
        var arguments = ["-s", "-S", "--max-time", "30", "-X", method, "-u", "\(user):\(password)",
                         "-w", "\n%{http_code}", "\(scheme)://127.0.0.1:\(port)\(path)"]
        if let caBundle { arguments += ["--cacert", caBundle] }
        if json != nil {
            arguments += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
        }
        let (status, output) = try await BlockingRun.run("curl", arguments, input: json)
        guard status == 0, let newline = output.lastIndex(of: "\n"), let code = Int(output[output.index(after: newline)...]) else {
            throw ProcessTestError(description: "curl \(method) \(path) failed (\(status)): \(output)")
        }
        let body = Data(output[..<newline].utf8)
        return (code, try? JSONSerialization.jsonObject(with: body))
    }

    /// Registers an in-memory environment whose transfers take `chunkDelayMs` per 64 KiB chunk.
    func slowEnvironment(cloud: String, chunkDelayMs: Int) async throws -> String {
        let environment = try await object("POST", "/v1/environments", json: """
            {"title": "slow", "managementlayer": {"software": "memory"},
             "credentials": {"location": "\(cloud)", "specifics": {"chunkDelayMs": \(chunkDelayMs)}}}
            """)
        guard let id = environment["id"] as? String else { throw ProcessTestError(description: "no environment id") }
        return id
    }

    func object(_ method: String, _ path: String, json: String? = nil) async throws -> [String: Any] {
        let (status, body) = try await request(method, path, json: json)
        guard (200..<300).contains(status), let object = body as? [String: Any] else {
            throw ProcessTestError(description: "\(method) \(path) answered \(status): \(String(describing: body))")
        }
        return object
    }
}

final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = ""
    func append(_ text: String) { lock.withLock { buffer += text } }
    var text: String { lock.withLock { buffer } }
}

/// Runs a command on a thread of its own, off the cooperative pool.
enum BlockingRun {
    static func run(_ command: String, _ arguments: [String], input: String? = nil) async throws -> (Int32, String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result {
                    try runProcess(URL(fileURLWithPath: "/usr/bin/env"), [command] + arguments, input: input)
                })
            }
        }
    }
}
