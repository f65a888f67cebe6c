import Crypto
import Foundation
import Testing
import ViceTestSupport

extension ProcessTests {
/// Uploads and downloads through the real server with curl.
@Suite struct TransferProcessTests {
    func curl(_ server: ServerProcess, _ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-sS", "-u", "admin:admin-password"] + arguments
        process.standardOutput = Pipe()
        process.standardError = Pipe()
        return process
    }

    func peakMemoryKiB(of process: Process) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? -1
    }

    @Test func killingTheServerMidUploadLeavesNothingHalfWritten() async throws {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url)
        var server = try await ServerProcess(directory: directory.url)
        let image = try await server.object("POST", "/v1/images", json: #"{"title": "interrupted", "contenttype": "disk-raw"}"#)
        let id = try #require(image["id"] as? String)
        let file = directory.url.appendingPathComponent("upload.bin")
        let bytes = (0..<(24 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 9) }
        try Data(bytes).write(to: file)

        let slow = curl(server, ["-X", "POST", "--limit-rate", "2M", "-H", "Content-Type: application/octet-stream",
                                 "--data-binary", "@\(file.path)", "http://127.0.0.1:\(server.port)/v1/image/\(id)/file"])
        try slow.run()
        let staging = directory.url.appendingPathComponent("data/store/staging")
        // The staging file is created unnamed (O_TMPFILE) and named only when complete, so watch
        // the bytes the server has written instead.
        let pid = server.process.processIdentifier
        let started = await eventually(timeout: .seconds(30)) {
            let io = (try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8)) ?? ""
            let written = io.split(separator: "\n").first { $0.hasPrefix("wchar:") }?.split(separator: " ").last.flatMap { Int($0) } ?? 0
            return written > 4 << 20
        }
        #expect(started, "the upload was under way")
        server.signal(SIGKILL)
        _ = try await server.waitForExit()
        await slow.finished()
        #expect(slow.terminationStatus != 0)

        server = try await ServerProcess(directory: directory.url)
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: staging.path)) ?? []
        #expect(leftovers.isEmpty, "staged bytes of the cut-off upload are gone: \(leftovers)")
        let after = try await server.object("GET", "/v1/image/\(id)")
        #expect(after["status"] as? String == "queued")
        #expect(after["checksum"] == nil)

        // The same upload, uninterrupted, goes through.
        let upload = curl(server, ["-X", "POST", "-H", "Content-Type: application/octet-stream", "--data-binary", "@\(file.path)",
                                   "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(server.port)/v1/image/\(id)/file"])
        try upload.run()
        await upload.finished()
        #expect(upload.terminationStatus == 0)
        let expected = "sha256:" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
        var stored: [String: Any] = [:]
        #expect(try await eventually {
            stored = try await server.object("GET", "/v1/image/\(id)")
            return stored["status"] as? String == "active"
        })
        #expect(stored["checksum"] as? String == expected)
        server.signal(SIGTERM)
        _ = try await server.waitForExit()
    }

    @Test func aFourGiBImageStreamsBothWaysWithBoundedMemory() async throws {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url)
        let server = try await ServerProcess(directory: directory.url)
        let image = try await server.object("POST", "/v1/images", json: #"{"title": "big", "contenttype": "disk-raw"}"#)
        let id = try #require(image["id"] as? String)
        let size: Int64 = 4 << 30
        let file = directory.url.appendingPathComponent("big.img")
        #expect(FileManager.default.createFile(atPath: file.path, contents: nil))
        let handle = try FileHandle(forWritingTo: file)
        try handle.truncate(atOffset: UInt64(size))  // sparse: reads as zeros, costs no disk
        try handle.close()

        let upload = curl(server, ["-X", "POST", "-T", file.path, "-H", "Content-Type: application/octet-stream",
                                   "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(server.port)/v1/image/\(id)/file"])
        try upload.run()
        await upload.finished()
        #expect(upload.terminationStatus == 0)
        var stored: [String: Any] = [:]
        #expect(try await eventually(timeout: .seconds(120)) {
            stored = try await server.object("GET", "/v1/image/\(id)")
            return stored["status"] as? String != "storing"
        })
        #expect(stored["status"] as? String == "active")
        #expect((stored["size"] as? NSNumber)?.int64Value == size)
        // SHA-256 of 4 GiB of zeros.
        #expect(stored["checksum"] as? String == "sha256:8479e43911dc45e89f934fe48d01297e16f51d17aa561d4d1c216b1ae0fcddca")

        let output = Pipe()
        let download = curl(server, ["-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                                     "http://127.0.0.1:\(server.port)/v1/image/\(id)/file"])
        download.standardOutput = output
        try download.run()
        await download.finished()
        let result = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(result == "200 \(size)")

        // Bounded, not proportional to the 4 GiB: measured 75–160 MiB depending on how busy the
        // two cores are (request bodies queue up while the writer waits for the disk).
        let peak = try peakMemoryKiB(of: server.process)
        #expect(peak < 256 * 1024, "peak RSS of the server was \(peak) KiB")
        _ = try await server.request("DELETE", "/v1/image/\(id)")
        server.signal(SIGTERM)
        _ = try await server.waitForExit()
    }
}
}
