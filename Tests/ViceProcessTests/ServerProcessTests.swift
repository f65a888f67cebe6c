import Crypto
import Foundation
import Testing
import ViceAdapterTesting
import ViceInMemory
import ViceTestSupport

/// Tests that start the real `vice` executable. They run one at a time: they measure memory,
/// watch jobs in flight and move gigabytes, which a neighbour would disturb.
@Suite(.serialized, .tags(.process)) enum ProcessTests {}

extension ProcessTests {
/// Restarts, kills, signals and the operator commands.
@Suite struct ServerProcessTests {
    func sha256(_ bytes: [UInt8]) -> String {
        "sha256:" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    @Test func killingTheServerWhileJobsRunLosesNoJobAndNoRecord() async throws {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url)
        var server = try await ServerProcess(directory: directory.url)

        // Slow imports (about 5 s each, two at a time: 15 s in all) so that the kill lands in the
        // middle of them even when a busy machine answers the polls below slowly.
        let environmentID = try await server.slowEnvironment(cloud: "kill-test", chunkDelayMs: 300)
        var imageIDs: [String] = []
        for n in 0..<6 {
            let image = try await server.object("POST", "/v1/images", json: """
                {"title": "image \(n)", "originEnvironment": "\(environmentID)", "environmentReference": "sample-raw"}
                """)
            imageIDs.append(try #require(image["id"] as? String))
        }
        let deployment = try await server.object("POST", "/v1/deploy", json: """
            {"imageid": "\(imageIDs[0])", "environmentId": "\(environmentID)"}
            """)
        let deploymentID = try #require(deployment["id"] as? String)

        // Wait until imports are running, then kill the process without any chance to clean up.
        let running = try await eventually(timeout: .seconds(30)) {
            let images = try await server.request("GET", "/v1/images").body as? [[String: Any]] ?? []
            return images.contains { $0["status"] as? String == "importing" }
        }
        #expect(running)
        server.signal(SIGKILL)
        #expect(try await server.waitForExit() != 0)
        #expect(try await ServerProcessTests.imageCountAfterKill(directory) == 6)

        // Start again: every job is still there and runs to the end.
        server = try await ServerProcess(directory: directory.url)
        let expected = sha256(InMemoryCloud.named("reference", owner: "").image("sample-raw")!.bytes)
        for id in imageIDs {
            var image: [String: Any] = [:]
            let done = try await eventually(timeout: .seconds(60)) {
                image = try await server.object("GET", "/v1/image/\(id)")
                return image["status"] as? String == "active"
            }
            #expect(done, "image \(id): \(image)")
            #expect(image["checksum"] as? String == expected)
            #expect(image["size"] as? Int == 1 << 20)
        }
        var deployed: [String: Any] = [:]
        #expect(try await eventually(timeout: .seconds(60)) {
            deployed = try await server.object("GET", "/v1/deployment/\(deploymentID)")
            return deployed["status"] as? String == "deployed"
        })
        let images = try await server.request("GET", "/v1/images")
        #expect((images.body as? [Any])?.count == 6)
        let stats = try await server.object("GET", "/v1/runtimestats")
        #expect(stats["importsPending"] as? Int == 0 && stats["exportsPending"] as? Int == 0)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.url.appendingPathComponent("data/store/tmp").path)
        #expect(leftovers.isEmpty, "no partial files remain: \(leftovers)")
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
    }

    /// The records a killed server left behind, read by a fresh process.
    static func imageCountAfterKill(_ directory: TemporaryDirectory) async throws -> Int {
        let server = try await ServerProcess(directory: directory.url)
        let images: Any?
        do { images = try await server.request("GET", "/v1/images").body } catch {
            server.signal(SIGKILL)
            throw error
        }
        server.signal(SIGKILL)
        _ = try? await server.waitForExit()
        return (images as? [Any])?.count ?? -1
    }

    @Test func sigtermLetsRunningJobsFinishAndStopsCleanly() async throws {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url)
        let server = try await ServerProcess(directory: directory.url)
        let environmentID = try await server.slowEnvironment(cloud: "term-test", chunkDelayMs: 500)
        let image = try await server.object("POST", "/v1/images", json: """
            {"originEnvironment": "\(environmentID)", "environmentReference": "sample-raw"}
            """)
        let id = try #require(image["id"] as? String)
        var seen: [String: Any] = [:]
        #expect(try await eventually {
            seen = try await server.object("GET", "/v1/image/\(id)")
            return seen["status"] as? String == "importing"
        }, "\(seen)")
        server.signal(SIGTERM)
        #expect(try await server.waitForExit() == 0)
        #expect(server.output.contains("vice listening"))

        // The job finished during the grace period: after a restart the image is there, active.
        let again = try await ServerProcess(directory: directory.url)
        let stored = try await again.object("GET", "/v1/image/\(id)")
        #expect(stored["status"] as? String == "active")
        again.signal(SIGINT)
        #expect(try await again.waitForExit() == 0)
    }

    @Test func noSecretReachesTheLogEvenAtTraceLevel() async throws {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url, extra: "")
        var yaml = try String(contentsOf: directory.url.appendingPathComponent("vice.yaml"), encoding: .utf8)
        yaml = yaml.replacingOccurrences(of: "level: notice", with: "level: trace")
        try yaml.write(to: directory.url.appendingPathComponent("vice.yaml"), atomically: true, encoding: .utf8)
        let server = try await ServerProcess(directory: directory.url)
        let secret = "cloud-secret-\(UUID().uuidString)"
        let environment = try await server.object("POST", "/v1/environments", json: """
            {"title": "locked", "managementlayer": {"software": "memory"},
             "credentials": {"location": "log-test", "username": "someone", "password": "\(secret)"}}
            """)
        let id = try #require(environment["id"] as? String)
        _ = try await server.object("POST", "/v1/images", json: """
            {"originEnvironment": "\(id)", "environmentReference": "no-such-image"}
            """)
        _ = try await server.request("GET", "/v1/user", password: "a-wrong-password")
        _ = try await server.object("PUT", "/v1/environments", json: """
            {"id": "\(id)", "credentials": {"password": "\(secret)-new"}}
            """)
        #expect(try await eventually {
            try await server.request("GET", "/v1/images").body.map { "\($0)" }?.contains("failed") == true
        })
        server.signal(SIGTERM)
        _ = try await server.waitForExit()
        let log = server.log
        #expect(log.contains("request"), "the log has request lines")
        #expect(log.contains("job failed"), "the log has job lines")
        for needle in [secret, "admin-password", "a-wrong-password", "Basic "] {
            #expect(!log.contains(needle), "the log contains \(needle)")
        }
    }

    @Test func aFirstStartWithoutAPasswordGeneratesOneAndKeepsItPrivate() async throws {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url)
        let server = try await ServerProcess(directory: directory.url, environment: ["VICE_ADMIN_PASSWORD": ""])
        let file = directory.url.appendingPathComponent("data/admin-password")
        let password = try String(contentsOf: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(password.count >= 20)
        #expect(server.output.contains(password))
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        #expect(try await server.request("GET", "/v1/user", password: password).status == 200)
        #expect(try await server.request("GET", "/v1/user", password: "admin").status == 401)
        server.signal(SIGTERM)
        _ = try await server.waitForExit()

        // A second start creates nothing and prints no password.
        let second = try await ServerProcess(directory: directory.url, environment: ["VICE_ADMIN_PASSWORD": ""])
        #expect(!second.output.contains("generated password"))
        second.signal(SIGTERM)
        _ = try await second.waitForExit()
    }

    @Test func operatorsManageUsersFromTheCommandLine() async throws {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url)
        let add = try runVice(["user", "add", "--config", "vice.yaml", "olivia", "--email", "o@example.org", "--admin"],
                              environment: ["VICE_PASSWORD": "olivias-password"], directory: directory.url)
        #expect(add.status == 0, "\(add.output)")
        #expect(add.output.contains("added user olivia"))
        let duplicate = try runVice(["user", "add", "--config", "vice.yaml", "olivia"], directory: directory.url,
                                    input: "another-password\n")
        #expect(duplicate.status != 0)
        #expect(duplicate.output.contains("taken"))
        let short = try runVice(["user", "add", "--config", "vice.yaml", "pete"], directory: directory.url, input: "short\n")
        #expect(short.status != 0)
        #expect(short.output.contains("at least 8"))
        let list = try runVice(["user", "list", "--config", "vice.yaml"], directory: directory.url)
        #expect(list.status == 0)
        #expect(list.output.contains("olivia\tadmin\to@example.org"))
        #expect(!list.output.contains("$2"))

        let server = try await ServerProcess(directory: directory.url)
        #expect(try await server.request("GET", "/v1/user", user: "olivia", password: "olivias-password").status == 200)
        // A password changed by another process stops working at once, cached or not.
        let passwd = try runVice(["user", "passwd", "--config", "vice.yaml", "olivia"], directory: directory.url,
                                 input: "olivias-new-password\n")
        #expect(passwd.status == 0, "\(passwd.output)")
        #expect(try await server.request("GET", "/v1/user", user: "olivia", password: "olivias-password").status == 401)
        #expect(try await server.request("GET", "/v1/user", user: "olivia", password: "olivias-new-password").status == 200)
        server.signal(SIGTERM)
        _ = try await server.waitForExit()
    }

    @Test func configuredEnvironmentsAreReloadedOnRequestAndABadFileKeepsWhatWasFine() async throws {
        let directory = try TemporaryDirectory()
        let folder = directory.url.appendingPathComponent("environments.d")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try ServerProcess.writeConfiguration(in: directory.url, extra: "environmentsDirectory: environments.d\npidFile: run/vice.pid")
        func declare(_ file: String, _ id: String, extra: String = "") throws {
            try """
                environments:
                  - id: \(id)
                    managementlayer: {software: memory}
                    credentials: {location: cloud-\(id), password: "${SECRET_OF_\(id.uppercased())}"}
                    users: all
                \(extra)
                """.write(to: folder.appendingPathComponent(file), atomically: true, encoding: .utf8)
        }
        try declare("one.yaml", "one")
        let server = try await ServerProcess(directory: directory.url, environment: [
            "VICE_ADMIN_PASSWORD": "admin-password", "SECRET_OF_ONE": "one-secret", "SECRET_OF_TWO": "two-secret"])
        func ids() async throws -> [String] {
            let (status, body) = try await server.request("GET", "/v1/environments")
            #expect(status == 200)
            return ((body as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }.sorted()
        }
        #expect(try await ids() == ["one"])

        try declare("two.yaml", "two")
        let reload = try runVice(["env", "reload", "--config", "vice.yaml"], directory: directory.url)
        #expect(reload.status == 0, "\(reload.output)")
        #expect(reload.output.contains("2 environments"))
        #expect(await eventually { (try? await ids()) == ["one", "two"] })

        // one.yaml breaks: the command names the line, and the server keeps "one" as it was.
        try declare("one.yaml", "one", extra: "    colour: blue")
        let bad = try runVice(["env", "reload", "--config", "vice.yaml"], directory: directory.url)
        #expect(bad.status == 2)
        #expect(bad.output.contains("one.yaml:6:5: unknown key 'colour'"), "\(bad.output)")
        try FileManager.default.removeItem(at: folder.appendingPathComponent("two.yaml"))
        #expect(try runVice(["env", "reload", "--config", "vice.yaml"], directory: directory.url).status == 2)
        #expect(await eventually { (try? await ids()) == ["one"] })
        let log = try String(contentsOf: server.logFile, encoding: .utf8)
        #expect(log.contains("one.yaml:6:5: unknown key 'colour'"))
        #expect(!log.contains("one-secret") && !log.contains("two-secret"))

        server.signal(SIGTERM)
        _ = try await server.waitForExit()
        #expect(!FileManager.default.fileExists(atPath: directory.file("run/vice.pid")))
        let stopped = try runVice(["env", "reload", "--config", "vice.yaml"], directory: directory.url)
        #expect(stopped.status == 1 && stopped.output.contains("no running server"))
    }

    @Test func anExternalAdapterFromTheConfigurationNeverBlocksStartUpAndIsUsedOnceItAnswers() async throws {
        let directory = try TemporaryDirectory()
        let socket = directory.file("directory.sock")
        let folder = directory.file("images")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try ServerProcess.writeConfiguration(in: directory.url, adapters: "  external:\n    - {kind: directory, socket: \(socket)}")
        let server = try await ServerProcess(directory: directory.url)
        let adapters = try await server.request("GET", "/v1/adapters")
        let entry = ((adapters.body as? [[String: Any]]) ?? []).first { $0["kind"] as? String == "directory" }
        #expect((entry?["summary"] as? String)?.contains("not reachable") == true, "\(String(describing: adapters.body))")
        let environment = try await server.object("POST", "/v1/environments", json: """
            {"title": "folder", "managementlayer": {"software": "directory"}, "credentials": {"location": "\(folder)"}}
            """)
        let id = try #require(environment["id"] as? String)
        #expect((try await server.object("GET", "/v1/environment/\(id)/health"))["status"] as? String == "unhealthy")

        let plugin = try await DirectoryPlugin(socket: socket)
        defer { plugin.stop() }
        #expect(await eventually { (try? await server.object("GET", "/v1/environment/\(id)/health"))?["status"] as? String == "healthy" })
        server.signal(SIGTERM)
        _ = try await server.waitForExit()
    }

    @Test func configCheckValidatesWithoutStartingAndPointsAtTheProblem() throws {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url)
        let good = try runVice(["config", "check", "vice.yaml"], directory: directory.url)
        #expect(good.status == 0)
        #expect(good.output.contains("OK"))
        try "server:\n  port: 8080\n  hots: localhost\n".write(to: directory.url.appendingPathComponent("bad.yaml"),
                                                             atomically: true, encoding: .utf8)
        let bad = try runVice(["config", "check", "bad.yaml"], directory: directory.url)
        #expect(bad.status == 2)
        #expect(bad.output.contains("bad.yaml:3:3: unknown key 'hots'"))
        let serve = try runVice(["serve", "--config", "bad.yaml"], directory: directory.url)
        #expect(serve.status == 2)
        #expect(serve.output.contains("bad.yaml:3:3"))
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("data").path))
    }
}
}
