import Foundation
import Testing
import ViceCore
import ViceTestSupport

/// The real server: connections that stall are closed, secrets on disk are private from the first
/// byte, the admin password does not stay in the process environment, hostile YAML is refused.
@Suite(.serialized, .tags(.process)) struct BoundsAndSecretsTests {
    /// Opens a TCP connection, sends `text`, and waits (up to `patience`) for the server to close it.
    static func sendAndAwaitClose(port: Int, _ text: String, patience: Int = 60) async throws -> Bool {
        try await BlockingIO.run {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw ProcessTestError(description: "no socket") }
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw ProcessTestError(description: "cannot connect") }
            _ = text.withCString { send(fd, $0, strlen($0), 0) }
            var timeout = timeval(tv_sec: patience, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = recv(fd, &buffer, buffer.count, 0)
                if count == 0 { return true }            // closed by the server
                if count < 0 { return errno == ECONNRESET }  // EAGAIN: still open when patience ran out
            }
        }
    }

    @Test func aClientThatSendsHalfARequestIsDisconnected() async throws {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url, server: "  idleTimeoutSeconds: 2")
        let server = try await ServerProcess(directory: directory.url)
        defer { server.signal(SIGKILL) }
        // Half a header block, then nothing.
        #expect(try await Self.sendAndAwaitClose(port: server.port, "GET /v1/user HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "))
        // A complete head and half the promised body.
        #expect(try await Self.sendAndAwaitClose(
            port: server.port, "POST /v1/user HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"user"))
        // The server still serves everyone else.
        #expect(try await server.request("GET", "/v1/user").status == 200)
    }

    @Test func secretsOnDiskArePrivateAndTheAdminPasswordLeavesTheEnvironment() async throws {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url)
        let password = "admin-password-\(UUID())"
        let server = try await ServerProcess(directory: directory.url, environment: ["VICE_ADMIN_PASSWORD": password])
        #expect(try await server.request("GET", "/v1/user", password: password).status == 200)
        let environ = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(server.process.processIdentifier)/environ"))
        #expect(environ.range(of: Data(password.utf8)) == nil, "the admin password is still in /proc/<pid>/environ")
        #expect(environ.range(of: Data("VICE_ADMIN_PASSWORD=".utf8)) == nil)
        for (path, mode) in [("data", 0o700), ("data/credential.key", 0o600), ("data/vice.sqlite", 0o600)] {
            var info = stat()
            #expect(stat(directory.file(path), &info) == 0)
            #expect(Int(info.st_mode & 0o777) == mode, "\(path): \(String(info.st_mode & 0o777, radix: 8))")
        }
        server.signal(SIGTERM)
        _ = try await server.waitForExit()

        // A key that others may read stops the next start, saying what to do.
        chmod(directory.file("data/credential.key"), 0o644)
        let refused = try runVice(["serve", "--config", "vice.yaml"], directory: directory.url)
        #expect(refused.status != 0)
        #expect(refused.output.contains("chmod 600"), "\(refused.output)")
        // A link planted where the key belongs is not followed.
        try FileManager.default.removeItem(atPath: directory.file("data/credential.key"))
        try FileManager.default.createSymbolicLink(atPath: directory.file("data/credential.key"), withDestinationPath: "/etc/hostname")
        let linked = try runVice(["serve", "--config", "vice.yaml"], directory: directory.url)
        #expect(linked.status != 0)
    }

    @Test func aYAMLAliasBombIsRefusedAtOnce() throws {
        let directory = try TemporaryDirectory()
        var bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
        for (index, name) in ["b", "c", "d", "e", "f", "g", "h", "i"].enumerated() {
            let previous = index == 0 ? "a" : ["b", "c", "d", "e", "f", "g", "h", "i"][index - 1]
            bomb += "\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ",") + "]\n"
        }
        #expect(bomb.utf8.count < 800)
        try bomb.write(toFile: directory.file("bomb.yaml"), atomically: true, encoding: .utf8)
        let checked = try runVice(["config", "check", "bomb.yaml"], directory: directory.url)
        #expect(checked.status != 0)
        #expect(checked.output.contains("aliases expand to more than"), "\(checked.output)")
    }
}

/// `server.tls` makes the server speak HTTPS itself, checked with curl against a certificate the
/// test makes; plain HTTP on another address than loopback is warned about.
@Suite(.serialized, .tags(.process)) struct ServerTLSTests {
    @Test func theServerSpeaksHTTPSWithTheConfiguredCertificate() async throws {
        let directory = try TemporaryDirectory()
        let certificates = directory.file("tls")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("script/make-test-certificates").path
        let made = try runProcess(URL(fileURLWithPath: script), [certificates])
        #expect(made.status == 0, "\(made.output)")
        try ServerProcess.writeConfiguration(in: directory.url, server: """
              tls:
                certificate: \(certificates)/server.pem
                key: \(certificates)/server-key.pem
            """)
        let server = try await ServerProcess(directory: directory.url)
        defer { server.signal(SIGKILL) }
        #expect(server.scheme == "https")
        server.caBundle = certificates + "/ca.pem"
        #expect(try await server.request("GET", "/v1/user").status == 200)
        // Plain HTTP to the TLS port gets nowhere, and an untrusted certificate is refused by curl.
        let plain = try runProcess(URL(fileURLWithPath: "/usr/bin/curl"),
                                   ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", "http://127.0.0.1:\(server.port)/v1/user"])
        #expect(!plain.output.hasPrefix("200"))
        let untrusted = try runProcess(URL(fileURLWithPath: "/usr/bin/curl"),
                                       ["-s", "--max-time", "10", "https://127.0.0.1:\(server.port)/v1/user"])
        #expect(untrusted.status != 0)
    }

    @Test func plainHTTPBeyondLoopbackIsWarnedAbout() async throws {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url)
        let yaml = try String(contentsOfFile: directory.file("vice.yaml"), encoding: .utf8).replacingOccurrences(of: "host: 127.0.0.1", with: "host: 0.0.0.0")
        try yaml.write(toFile: directory.file("vice.yaml"), atomically: true, encoding: .utf8)
        let server = try await ServerProcess(directory: directory.url)
        defer { server.signal(SIGKILL) }
        #expect(server.log.contains("without TLS"), "\(server.log)")
    }
}

/// `vice user token` makes a token a pipeline can use against the running server.
@Suite(.tags(.process)) struct TokenCommandTests {
    @Test func aTokenFromTheCommandLineWorksAgainstTheServer() async throws {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url)
        let server = try await ServerProcess(directory: directory.url)
        defer { server.signal(SIGKILL) }
        let made = try runVice(["user", "token", "--config", "vice.yaml", "admin", "--name", "pipeline", "--scope", "deploy"],
                               directory: directory.url)
        #expect(made.status == 0, "\(made.output)")
        let token = try #require(made.output.split(separator: "\n").first { $0.hasPrefix("vice_") }.map(String.init))
        #expect(try await server.request("GET", "/v1/user", password: token).status == 200)
        #expect(try await server.request("GET", "/v1/user", password: token + "x").status == 401)
    }
}
