import Foundation

/// A `vice serve` of its own for the client test: a fresh directory, the in-memory adapter.
final class RegistryServer: @unchecked Sendable {
    let directory: URL
    let process = Process()
    let password = "client-contract-password"
    private(set) var port = 0

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vice-client-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try """
            server: {host: 127.0.0.1, port: 0}
            storage: {path: data/store}
            database: {sqlite: data/vice.sqlite}
            security: {bcryptCost: 4}
            adapters:
              memory: {enabled: true}
            logging: {level: warning}
            """.write(to: directory.appendingPathComponent("vice.yaml"), atomically: true, encoding: .utf8)
        process.executableURL = try Self.executable()
        process.arguments = ["serve", "--config", "vice.yaml"]
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(["VICE_ADMIN_PASSWORD": password]) { $1 }
        let output = directory.appendingPathComponent("stdout")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<600 {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("vice listening on http://") }),
               let port = Int(line.split(separator: ":").last ?? "") {
                self.port = port
                return
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw CurlTransport.CurlFailed(message: "vice serve did not start")
    }

    var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// VICE_EXECUTABLE, or the registry's debug build next to this package.
    static func executable() throws -> URL {
        if let given = ProcessInfo.processInfo.environment["VICE_EXECUTABLE"] { return URL(fileURLWithPath: given) }
        let built = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent(".build/debug/vice")
        guard FileManager.default.isExecutableFile(atPath: built.path) else {
            throw CurlTransport.CurlFailed(message: "no vice executable: build the registry first or set VICE_EXECUTABLE")
        }
        return built
    }
}
