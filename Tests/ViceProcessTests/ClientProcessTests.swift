import Foundation
import Testing
import ViceTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The `vice` client against a real `vice serve`, as an operator or a script uses it: a login
/// profile, every command group, large transfers with their digests, a download resumed after
/// the connection is cut, `--wait` on imports (one from the test Docker engine), JSON output,
/// exit codes, and the progress bar on a pseudo-terminal.
@Suite(.serialized, .tags(.process)) struct ClientProcessTests {
    static func server(_ directory: TemporaryDirectory) async throws -> ServerProcess {
        try ServerProcess.writeConfiguration(in: directory.url)
        return try await ServerProcess(directory: directory.url)
    }

    static func loggedIn(_ directory: TemporaryDirectory, _ server: ServerProcess) async throws -> ClientHarness {
        let client = ClientHarness(directory: directory.url)
        let login = try await client.run(["login", "http://127.0.0.1:\(server.port)", "--user", "admin", "--password-stdin"],
                                         input: "admin-password\n")
        try #require(login.status == 0, "login failed: \(login.errors)")
        return client
    }

    @Test func loginKeepsAPrivateProfileWithATokenAndEveryCommandGroupWorks() async throws {
        let directory = try TemporaryDirectory()
        let server = try await Self.server(directory)
        let client = try await Self.loggedIn(directory, server)

        // The profile: 0600, a token and its id, never the password.
        let attributes = try FileManager.default.attributesOfItem(atPath: client.configFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let profile = try String(contentsOfFile: client.configFile, encoding: .utf8)
        #expect(profile.contains("token: \"vice_"))
        #expect(!profile.contains("admin-password"))
        let tokens = try await server.request("GET", "/v1/user/tokens")
        let tokenNames = (tokens.body as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
        #expect(tokenNames.contains { $0.hasPrefix("vice client on ") })

        // Environments.
        let lab = try await client.run(["env", "create", "--title", "lab", "--software", "memory", "--location", "lab", "-o", "json"])
        let labID = try #require(try lab.object()["id"] as? String, "\(lab.errors)")
        let pool = try await client.run(["env", "create", "--title", "pool", "--software", "memory", "--location", "pool", "-o", "json"])
        let poolID = try #require(try pool.object()["id"] as? String)
        let environments = try await client.run(["env", "list"])
        #expect(environments.printed.contains("lab") && environments.printed.contains("pool") && environments.printed.hasPrefix("ID"))
        #expect(try await client.run(["env", "show", labID, "-o", "json"]).object()["title"] as? String == "lab")
        #expect(try await client.run(["env", "health", labID, "-o", "json"]).object()["status"] as? String == "healthy")
        let offered = try await client.run(["env", "images", labID, "-o", "json"]).json() as? [[String: Any]]
        #expect(offered?.contains { $0["reference"] as? String == "sample-qcow2" } == true)

        // An import followed to its end, then found, changed (read, change, write back) and shown.
        let imported = try await client.run(["image", "import", labID, "sample-qcow2", "--title", "Sample disk", "--wait", "-o", "json"])
        let image = try imported.object()
        let imageID = try #require(image["id"] as? String, "\(imported.errors)")
        #expect(image["status"] as? String == "active")
        #expect(imported.errors.isEmpty, "no progress bar without a terminal: \(imported.errors)")
        let found = try await client.run(["image", "list", "--search", "Sample", "-o", "json"]).json() as? [[String: Any]]
        #expect(found?.map { $0["id"] as? String } == [imageID])
        let updated = try await client.run(["image", "update", imageID, "--title", "Renamed disk", "--specific", "os=linux", "-o", "json"])
        #expect(try updated.object()["title"] as? String == "Renamed disk", "\(updated.errors)")
        let shown = try await client.run(["image", "show", imageID, "-o", "yaml"])
        #expect(shown.printed.contains("title: Renamed disk") && shown.printed.contains("os: linux"), "\(shown.printed)")
        #expect(shown.printed.contains("environmentReference: sample-qcow2"))

        // Deploy, follow, list, remove.
        let deployed = try await client.run(["deploy", imageID, poolID, "--wait", "-o", "json"])
        let deployment = try deployed.object()
        let deploymentID = try #require(deployment["id"] as? String, "\(deployed.errors)")
        #expect(deployment["status"] as? String == "deployed")
        let deployments = try await client.run(["deployment", "list", "-o", "json"]).json() as? [[String: Any]]
        #expect(deployments?.map { $0["id"] as? String } == [deploymentID])
        #expect(try await client.run(["deployment", "show", deploymentID, "-o", "json"]).object()["imageid"] as? String == imageID)
        let removed = try await client.run(["deployment", "delete", deploymentID, "--wait"])
        #expect(removed.status == 0 && removed.printed.contains("removed deployment \(deploymentID)"), "\(removed.errors)")
        #expect(try await client.run(["deployment", "show", deploymentID]).status == 3, "gone once removed")

        // Jobs: the table, one job, a failed one retried, a slow one cancelled.
        let jobs = try await client.run(["job", "list", "-o", "json"]).json() as? [[String: Any]] ?? []
        #expect(Set(jobs.compactMap { $0["kind"] as? String }) == ["import-image", "deploy", "remove-deployment"])
        let jobTable = try await client.run(["job", "list"])
        #expect(jobTable.printed.hasPrefix("ID") && jobTable.printed.contains(imageID), "the subject column")
        let importJob = try #require(image["jobId"] as? String)
        #expect(try await client.run(["job", "show", importJob, "-o", "json"]).object()["state"] as? String == "succeeded")
        let failing = try await client.run(["image", "import", labID, "not-there", "-o", "json"])
        let failingJob = try #require(try failing.object()["jobId"] as? String)
        let watched = try await client.run(["job", "watch", failingJob])
        #expect(watched.status == 5 && watched.errors.contains("no image 'not-there'"), "\(watched.status) \(watched.errors)")
        let retried = try await client.run(["job", "retry", failingJob, "--wait"])
        #expect(retried.status == 5, "it fails again, and says so: \(retried.errors)")
        let slowCloud = try await server.slowEnvironment(cloud: "lab-slow", chunkDelayMs: 500)
        let slow = try await client.run(["image", "import", slowCloud, "sample-raw", "-o", "json"])
        let slowJob = try #require(try slow.object()["jobId"] as? String)
        let cancel = try await client.run(["job", "cancel", slowJob, "-o", "json"])
        #expect(cancel.status == 0, "\(cancel.errors)")
        #expect(await eventually(timeout: .seconds(30)) {
            (try? await client.run(["job", "show", slowJob, "-o", "json"]).object()["state"] as? String) == "cancelled"
        })

        // Queues, then clean-up, then logout revokes the token.
        let stats = try await client.run(["stats", "-o", "json"]).object()
        #expect(stats["importWorker"] as? Int == 2)
        #expect(try await client.run(["stats"]).printed.contains("QUEUE"))
        #expect(try await client.run(["image", "delete", imageID]).printed.contains("deleted image \(imageID)"))
        #expect(try await client.run(["env", "delete", poolID]).status == 0)
        let token = try #require(profile.split(separator: "\n").first { $0.contains("token: ") }?
            .split(separator: "\"").dropFirst().first.map(String.init))
        #expect(try await client.run(["logout"]).status == 0)
        let afterLogout = try await client.run(["image", "list"], environment: ["VICE_URL": "http://127.0.0.1:\(server.port)", "VICE_TOKEN": token])
        #expect(afterLogout.status == 2, "the token is revoked: \(afterLogout.errors)")
        #expect(try await client.run(["image", "list"]).status == 2, "no profile left: not logged in")
    }

    @Test func aQuarterGigabyteGoesUpAndComesDownThroughTheClientWithItsDigest() async throws {
        let directory = try TemporaryDirectory()
        let server = try await Self.server(directory)
        let client = try await Self.loggedIn(directory, server)
        let file = directory.url.appendingPathComponent("disk.img")
        let digest = try randomFile(file, megabytes: 256)
        let created = try await client.run(["image", "create", "--title", "big", "--content-type", "disk-raw", "-o", "json"])
        let id = try #require(try created.object()["id"] as? String)
        let uploaded = try await client.run(["image", "upload", id, file.path, "-o", "json"])
        #expect(uploaded.status == 0, "\(uploaded.errors)")
        let image = try uploaded.object()
        #expect(image["checksum"] as? String == "sha256:" + digest)
        #expect(image["size"] as? Int == 256 << 20 && image["status"] as? String == "active")

        let copy = directory.url.appendingPathComponent("copy.img")
        let downloaded = try await client.run(["image", "download", id, "-O", copy.path, "-o", "json"])
        #expect(downloaded.status == 0, "\(downloaded.errors)")
        #expect(try downloaded.object()["checksum"] as? String == "sha256:" + digest)
        #expect(try sha256(of: copy) == digest)
        #expect(!FileManager.default.fileExists(atPath: copy.path + ".part"))
        // To standard output, into a pipe.
        let vice = try viceExecutable().path
        let piped = try await client.run(["-c", "'\(vice)' image download \(id) -O - | sha256sum"], executable: "/bin/sh")
        #expect(piped.status == 0 && piped.printed.hasPrefix(digest), "\(piped.printed) \(piped.errors)")
    }

    @Test func aDownloadCutOffMidwayContinuesWithARangeAndKeepsTheDigest() async throws {
        let directory = try TemporaryDirectory()
        let server = try await Self.server(directory)
        let client = try await Self.loggedIn(directory, server)
        let file = directory.url.appendingPathComponent("disk.img")
        let digest = try randomFile(file, megabytes: 32)
        let created = try await client.run(["image", "create", "--title", "cut", "--content-type", "disk-raw", "-o", "json"])
        let id = try #require(try created.object()["id"] as? String)
        #expect(try await client.run(["image", "upload", id, file.path]).status == 0)

        // A proxy that breaks the first download after 10 MB, as a flaky network would.
        let log = directory.url.appendingPathComponent("proxy.jsonl")
        let (proxy, port) = try await Self.cuttingProxy(to: server, after: 10_000_000, log: log, mode: "download")
        defer { kill(proxy.processIdentifier, SIGKILL) }

        let copy = directory.url.appendingPathComponent("copy.img")
        let downloaded = try await client.run(["image", "download", id, "-O", copy.path, "-o", "json", "--url", "http://127.0.0.1:\(port)"],
                                              environment: ["VICE_USER": "admin", "VICE_PASSWORD": "admin-password"])
        #expect(downloaded.status == 0, "\(downloaded.errors)")
        let result = try downloaded.object()
        #expect(result["resumes"] as? Int == 1)
        #expect(try sha256(of: copy) == digest)
        let requests = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(requests.contains { $0["cut"] != nil }, "the proxy cut the transfer")
        let ranges = requests.compactMap { $0["range"] as? String }
        #expect(ranges.count == 1 && ranges[0].hasPrefix("bytes=") && ranges[0] != "bytes=0-", "\(ranges)")
        #expect(downloaded.errors.contains("trying again"), "a person is told: \(downloaded.errors)")
    }

    /// `Peers/cutting_proxy.py` in front of `server`: it cuts the first download (or upload) of
    /// an image file after `bytes`.
    static func cuttingProxy(to server: ServerProcess, after bytes: Int, log: URL, mode: String) async throws -> (Process, Int) {
        let proxy = Process()
        proxy.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peers/cutting_proxy.py")
        proxy.arguments = [script.path, String(server.port), String(bytes), log.path, mode]
        let output = Pipe()
        proxy.standardOutput = output
        try proxy.run()
        let line = try await BlockingRun.read(line: output.fileHandleForReading)
        guard let port = Int(line.replacingOccurrences(of: "listening ", with: "")) else {
            kill(proxy.processIdentifier, SIGKILL)
            throw ProcessTestError(description: "proxy said: \(line)")
        }
        return (proxy, port)
    }

    @Test func anUploadCutOffMidwayIsSentAgainAndTheRegistryKeepsOnlyTheWholeFile() async throws {
        let directory = try TemporaryDirectory()
        let server = try await Self.server(directory)
        let client = try await Self.loggedIn(directory, server)
        let file = directory.url.appendingPathComponent("disk.img")
        let digest = try randomFile(file, megabytes: 32)
        let created = try await client.run(["image", "create", "--title", "cut up", "--content-type", "disk-raw", "-o", "json"])
        let id = try #require(try created.object()["id"] as? String)
        let log = directory.url.appendingPathComponent("proxy.jsonl")
        let (proxy, port) = try await Self.cuttingProxy(to: server, after: 12_000_000, log: log, mode: "upload")
        defer { kill(proxy.processIdentifier, SIGKILL) }

        let uploaded = try await client.run(["image", "upload", id, file.path, "-o", "json", "--url", "http://127.0.0.1:\(port)"],
                                            environment: ["VICE_USER": "admin", "VICE_PASSWORD": "admin-password"])
        #expect(uploaded.status == 0, "\(uploaded.errors)")
        let image = try uploaded.object()
        #expect(image["checksum"] as? String == "sha256:" + digest && image["size"] as? Int == 32 << 20)
        #expect(uploaded.errors.contains("trying again"), "\(uploaded.errors)")
        let requests = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
            .compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(requests.contains { $0["cut"] != nil }, "the proxy cut the upload")
        #expect(requests.filter { ($0["request"] as? String)?.hasPrefix("POST /v1/image/\(id)/file") == true }.count == 2)
        let jobs = try await client.run(["job", "list", "--image", id, "-o", "json"]).json() as? [[String: Any]] ?? []
        #expect(jobs.count == 1 && jobs.first?["state"] as? String == "succeeded", "one store job: the broken upload left none")
    }

    @Test func waitFollowsADockerImportFromTheTestEngineAndAFailedOneExitsWithTheEnginesMessage() async throws {
        guard let socket = ProcessInfo.processInfo.environment["VICE_TEST_DOCKER_SOCKET"] else {
            throw ProcessTestError(description: "VICE_TEST_DOCKER_SOCKET is not set: run the tests with script/test, which starts a Docker engine")
        }
        let directory = try TemporaryDirectory()
        // A tiny image, made without a registry.
        let context = tarArchive([("Dockerfile", Array("FROM scratch\nCOPY hello.txt /\n".utf8)), ("hello.txt", Array("hello\n".utf8))])
        let tar = directory.url.appendingPathComponent("context.tar")
        try Data(context).write(to: tar)
        let tag = "vice-client-test:\(UUID().uuidString.prefix(8).lowercased())"
        let (built, buildOutput) = try await BlockingRun.run("curl", ["-s", "-S", "--unix-socket", socket, "-X", "POST",
            "-H", "Content-Type: application/x-tar", "--data-binary", "@\(tar.path)", "http://docker/build?t=\(tag)"])
        try #require(built == 0 && !buildOutput.contains("errorDetail"), "docker build: \(buildOutput)")

        let server = try await Self.server(directory)
        let client = try await Self.loggedIn(directory, server)
        let engine = try await client.run(["env", "create", "--title", "engine", "--software", "docker", "--location", "unix://\(socket)", "-o", "json"])
        let engineID = try #require(try engine.object()["id"] as? String, "\(engine.errors)")
        #expect(try await client.run(["env", "health", engineID]).status == 0)

        let imported = try await client.run(["image", "import", engineID, tag, "--wait", "-o", "json"])
        #expect(imported.status == 0, "\(imported.errors)")
        let image = try imported.object()
        #expect(image["status"] as? String == "active" && image["contenttype"] as? String == "docker-image")
        #expect((image["checksum"] as? String)?.hasPrefix("sha256:") == true)

        let missing = try await client.run(["image", "import", engineID, "vice-client-test:not-there", "--wait", "-o", "json"])
        #expect(missing.status == 5, "exit code 5: the job failed (\(missing.status))")
        #expect(missing.errors.contains("failed") && missing.errors.lowercased().contains("not-there"), "\(missing.errors)")
        #expect(!missing.errors.contains("Fatal error") && !missing.errors.contains("Stack"), "a message, not a trace")
        _ = try? await BlockingRun.run("curl", ["-s", "--unix-socket", socket, "-X", "DELETE", "http://docker/images/\(tag)?force=1"])
    }

    @Test func errorsEndWithTheDocumentedExitCodeAndTheServersMessage() async throws {
        let directory = try TemporaryDirectory()
        let server = try await Self.server(directory)
        let client = try await Self.loggedIn(directory, server)

        let missing = try await client.run(["image", "show", "AAAAAAAAAAAAAAAAAAAA"])
        #expect(missing.status == 3 && missing.errors.contains("not found") && missing.errors.contains("HTTP 404"), "\(missing.errors)")
        let refused = try await client.run(["deploy", "AAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAA"])
        #expect(refused.status == 1 && refused.errors.contains("does not name"), "\(refused.errors)")
        let badPassword = try await client.run(["image", "list", "--user", "admin"], environment: ["VICE_PASSWORD": "wrong"])
        #expect(badPassword.status == 2 && badPassword.errors.contains("invalid username or password"), "\(badPassword.errors)")
        let unreachable = try await client.run(["image", "list", "--url", "http://127.0.0.1:1"])
        #expect(unreachable.status == 4 && unreachable.errors.contains("cannot reach"), "\(unreachable.errors)")
        let usage = try await client.run(["image", "show"])
        #expect(usage.status == 64, "ArgumentParser's usage error")
        let noFile = try await client.run(["image", "upload", "AAAAAAAAAAAAAAAAAAAA", directory.url.appendingPathComponent("none").path])
        #expect(noFile.status == 64 && noFile.errors.contains("cannot read"), "\(noFile.errors)")
        let notLoggedIn = ClientHarness(directory: try TemporaryDirectory().url)
        let nowhere = try await notLoggedIn.run(["image", "list"])
        #expect(nowhere.status == 2 && nowhere.errors.contains("vice login"), "\(nowhere.errors)")
        // Completion scripts come from the same command tree.
        let completion = try await client.run(["--generate-completion-script", "bash"])
        #expect(completion.status == 0 && completion.printed.contains("deployment") && completion.printed.contains("download"))
    }

    @Test func theProgressBarIsDrawnOnATerminalAndNeverIntoAPipe() async throws {
        let directory = try TemporaryDirectory()
        let server = try await Self.server(directory)
        let client = try await Self.loggedIn(directory, server)
        let file = directory.url.appendingPathComponent("disk.img")
        _ = try randomFile(file, megabytes: 64)
        let created = try await client.run(["image", "create", "--title", "shown", "--content-type", "disk-raw", "-o", "json"])
        let id = try #require(try created.object()["id"] as? String)

        let upload = try await client.runOnTerminal(["image", "upload", id, file.path], columns: 100)
        #expect(upload.status == 0, "\(upload.errors)")
        let frames = upload.errors.split(separator: "\r").map { $0.replacingOccurrences(of: "\u{1B}[K", with: "") }
        let last = try #require(frames.last { $0.contains("upload \(id)") })
        #expect(last.contains("64.0 MiB/64.0 MiB") && last.contains("100%"), "the final frame: \(last)")
        #expect(last.contains("MiB/s"), "the rate: \(last)")
        #expect(frames.allSatisfy { $0.trimmingCharacters(in: .newlines).count < 100 }, "no frame wider than the terminal")
        #expect(upload.errors.contains("store \(id)"), "then the store job's progress")

        let download = try await client.runOnTerminal(["image", "download", id, "-O", directory.url.appendingPathComponent("copy").path])
        #expect(download.status == 0)
        #expect(download.errors.contains("download \(id)") && download.errors.contains("[==="), "a bar: \(download.errors)")
        // Into a pipe: not one control character.
        let piped = try await client.run(["image", "download", id, "-O", directory.url.appendingPathComponent("copy2").path])
        #expect(piped.status == 0 && !piped.errors.contains("\r") && !piped.errors.contains("\u{1B}"), "\(piped.errors)")
    }
}
