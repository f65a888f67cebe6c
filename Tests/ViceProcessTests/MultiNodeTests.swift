import Foundation
import Testing
import ViceTestSupport

/// Two `vice serve` processes on one PostgreSQL database, as two nodes behind a load balancer:
/// what one records the other serves, a job of a node that was killed is finished by the other
/// after its lease, a node that stalls past its lease and wakes up cannot overwrite what the
/// other recorded (fencing), and with one S3 bucket (SeaweedFS) an upload through one node is
/// stored by the other and served by both, while deletes racing ingests of the same bytes lose
/// no blob. The first tests keep blobs in each node's folder, so an import runs wholly on the
/// node that finishes it.
@Suite(.serialized, .tags(.process)) struct MultiNodeTests {
    static let lease = 4

    /// A fresh database on the server `script/test` started; fails, never skips, without it.
    static func freshDatabase() throws -> String {
        guard let server = ProcessInfo.processInfo.environment["VICE_TEST_POSTGRES_URL"],
              var components = URLComponents(string: server) else {
            throw ProcessTestError(description: "VICE_TEST_POSTGRES_URL is not set: run the tests with script/test, which starts PostgreSQL")
        }
        let name = "vice_nodes_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let (status, output) = try runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                                              ["psql", "-q", "-d", server.replacingOccurrences(of: "?sslmode=disable", with: ""),
                                               "-c", "CREATE DATABASE \(name)"])
        guard status == 0 else { throw ProcessTestError(description: "cannot create a database: \(output)") }
        components.path = "/" + name
        return components.string!
    }

    /// The shared bucket of the SeaweedFS `script/test` started, under a prefix of its own.
    static func bucket() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["VICE_TEST_S3_ENDPOINT"], let key = environment["VICE_TEST_S3_ACCESS_KEY"],
              let secret = environment["VICE_TEST_S3_SECRET_KEY"] else {
            throw ProcessTestError(description: "VICE_TEST_S3_ENDPOINT is not set: run the tests with script/test, which starts SeaweedFS")
        }
        return """
            storage:
              s3:
                endpoint: \(endpoint)
                bucket: vice-tests
                accessKeyId: \(key)
                secretAccessKey: \(secret)
                prefix: nodes-\(UUID().uuidString.lowercased())/
                partSizeMiB: 5
            """
    }

    /// A node's folder and configuration: the shared database (and bucket, when given), a short
    /// lease, `imports` and `stores` workers.
    static func node(database: String, imports: Int, stores: Int = 1, bucket: String = "", key: URL? = nil) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(
            in: directory.url, extra: "database:\n  postgres:\n    url: \(database)\n    poolSize: 4\n" + bucket,
            workers: "  import: \(imports)\n  export: 1\n  store: \(stores)\n  leaseSeconds: \(lease)\n  shutdownGraceSeconds: 5")
        // Credentials are sealed with the key: every node has the same one.
        if let key {
            let data = directory.url.appendingPathComponent("data")
            try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let copy = data.appendingPathComponent("credential.key")
            try FileManager.default.copyItem(at: key, to: copy)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: copy.path)
        }
        return directory
    }

    static func key(of node: TemporaryDirectory) -> URL { node.url.appendingPathComponent("data/credential.key") }

    /// Starts an import of the slow in-memory cloud's sample through `server` and waits until a
    /// node is importing it.
    static func startImport(through server: ServerProcess, cloud: String) async throws -> (image: String, job: String) {
        // 16 chunks of 1.2 s: the import is still running when the second node is up, also on a
        // busy machine where starting a node takes seconds.
        let environment = try await server.slowEnvironment(cloud: cloud, chunkDelayMs: 1200)
        let image = try await server.object("POST", "/v1/images", json: """
            {"title": "moved between nodes", "originEnvironment": "\(environment)", "environmentReference": "sample-raw"}
            """)
        let id = try #require(image["id"] as? String)
        let job = try #require(image["jobId"] as? String)
        #expect(await eventually(timeout: .seconds(60)) {
            (try? await server.object("GET", "/v1/image/\(id)"))?["status"] as? String == "importing"
        })
        return (id, job)
    }

    @Test func aKilledNodesImportIsFinishedByTheOtherAfterItsLease() async throws {
        let database = try Self.freshDatabase()
        let first = try Self.node(database: database, imports: 2)
        let one = try await ServerProcess(directory: first.url)
        let (image, job) = try await Self.startImport(through: one, cloud: "nodes-\(UUID())")
        let second = try Self.node(database: database, imports: 2, key: Self.key(of: first))
        let two = try await ServerProcess(directory: second.url)
        // What node 1 recorded, node 2 serves.
        let listed = try await two.request("GET", "/v1/images")
        #expect((listed.body as? [[String: Any]])?.map { $0["id"] as? String } == [image])

        let beforeKill = try await two.object("GET", "/v1/image/\(image)")
        try #require(beforeKill["status"] as? String == "importing", "node 1 is still importing when it is killed: \(beforeKill)")
        one.signal(SIGKILL)
        _ = try await one.waitForExit()
        var record: [String: Any] = [:]
        #expect(await eventually(timeout: .seconds(180)) {
            record = (try? await two.object("GET", "/v1/image/\(image)")) ?? [:]
            return record["status"] as? String == "active"
        }, "\(record)")
        #expect(record["size"] as? Int == 1 << 20)
        let finished = try await two.object("GET", "/v1/jobs/\(job)")
        #expect(finished["state"] as? String == "succeeded" && finished["attempts"] as? Int == 2, "claimed again by node 2: \(finished)")
        // Node 2 serves the bytes it imported.
        let download = try await two.request("GET", "/v1/image/\(image)/file")
        #expect(download.status == 200)
        two.signal(SIGTERM)
        #expect(try await two.waitForExit() == 0)
    }

    @Test func aNodeThatStallsPastItsLeaseCannotOverwriteTheOthersResult() async throws {
        let database = try Self.freshDatabase()
        let first = try Self.node(database: database, imports: 1)
        let one = try await ServerProcess(directory: first.url)
        let (image, job) = try await Self.startImport(through: one, cloud: "stall-\(UUID())")
        let second = try Self.node(database: database, imports: 1, key: Self.key(of: first))
        let two = try await ServerProcess(directory: second.url)

        // Node 1 stops (a long GC pause, a VM migrated, a network cut) with the job in hand.
        one.signal(SIGSTOP)
        let beforeStop = try await two.object("GET", "/v1/image/\(image)")
        try #require(beforeStop["status"] as? String == "importing", "node 1 was still importing when it stopped: \(beforeStop)")
        var record: [String: Any] = [:]
        #expect(await eventually(timeout: .seconds(180)) {
            record = (try? await two.object("GET", "/v1/image/\(image)")) ?? [:]
            return record["status"] as? String == "active"
        }, "\(record)")
        let done = try await two.object("GET", "/v1/jobs/\(job)")
        #expect(done["state"] as? String == "succeeded" && done["attempts"] as? Int == 2, "\(done)")

        // Node 1 wakes up and finishes its now stale attempt: the fencing token refuses its writes.
        one.signal(SIGCONT)
        #expect(await eventually(timeout: .seconds(120)) {
            one.log.contains("taken over by another worker; nothing recorded")
        }, "node 1's log: \(one.log)")
        let after = try await two.object("GET", "/v1/jobs/\(job)")
        #expect(after["state"] as? String == "succeeded" && after["attempts"] as? Int == 2 && after["updatedAt"] as? String == done["updatedAt"] as? String,
                "node 1 changed nothing: \(after)")
        let image2 = try await two.object("GET", "/v1/image/\(image)")
        #expect(image2["status"] as? String == "active" && image2["checksum"] as? String == record["checksum"] as? String)
        for server in [one, two] { server.signal(SIGTERM) }
        for server in [one, two] { _ = try await server.waitForExit() }
    }

    func curl(_ arguments: [String]) async throws -> String {
        let (status, output) = try await BlockingRun.run("curl", ["-s", "-u", "admin:admin-password"] + arguments)
        guard status == 0 else { throw ProcessTestError(description: "curl \(arguments) failed (\(status)): \(output)") }
        return output
    }

    func sha256(ofFile path: URL) async throws -> String {
        let (_, output) = try await BlockingRun.run("sha256sum", [path.path])
        return "sha256:" + (output.split(separator: " ").first.map(String.init) ?? "")
    }

    @Test func anUploadThroughOneNodeIsStoredByTheOtherAndServedByBothAndDeletesLoseNoSharedBlob() async throws {
        let database = try Self.freshDatabase()
        let bucket = try Self.bucket()
        // Node 1 runs no store jobs: what is uploaded through it is stored by node 2.
        let first = try Self.node(database: database, imports: 1, stores: 0, bucket: bucket)
        let one = try await ServerProcess(directory: first.url)
        let second = try Self.node(database: database, imports: 1, stores: 1, bucket: bucket, key: Self.key(of: first))
        let two = try await ServerProcess(directory: second.url)

        let file = first.url.appendingPathComponent("disk.img")
        let (made, _) = try await BlockingRun.run("dd", ["if=/dev/urandom", "of=\(file.path)", "bs=1M", "count=12", "status=none"])
        #expect(made == 0)
        let digest = try await sha256(ofFile: file)
        func upload(through server: ServerProcess, title: String) async throws -> String {
            let image = try await server.object("POST", "/v1/images", json: #"{"title": "\#(title)", "contenttype": "disk-raw"}"#)
            let id = try #require(image["id"] as? String)
            let status = try await curl(["-X", "POST", "-H", "Content-Type: application/octet-stream", "-T", file.path,
                                         "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(server.port)/v1/image/\(id)/file"])
            #expect(["200", "201", "202"].contains(status), "upload answered \(status)")
            return id
        }
        func active(_ id: String, on server: ServerProcess) async -> [String: Any] {
            var record: [String: Any] = [:]
            _ = await eventually(timeout: .seconds(180)) {
                record = (try? await server.object("GET", "/v1/image/\(id)")) ?? [:]
                return record["status"] as? String == "active"
            }
            return record
        }
        let image = try await upload(through: one, title: "uploaded to node 1")
        let stored = await active(image, on: one)
        #expect(stored["status"] as? String == "active" && stored["checksum"] as? String == digest, "\(stored)")

        // Both nodes serve the same bytes from the bucket, whole and in ranges.
        for server in [one, two] {
            let copy = second.url.appendingPathComponent("download-\(server.port).img")
            let status = try await curl(["-o", copy.path, "-w", "%{http_code}", "http://127.0.0.1:\(server.port)/v1/image/\(image)/file"])
            #expect(status == "200")
            #expect(try await sha256(ofFile: copy) == digest)
        }
        let part = second.url.appendingPathComponent("part.bin")
        let ranged = try await curl(["-H", "Range: bytes=1000-1999", "-o", part.path, "-w", "%{http_code}",
                                     "http://127.0.0.1:\(two.port)/v1/image/\(image)/file"])
        let original = try Data(contentsOf: file)
        let partBytes = try Data(contentsOf: part)
        #expect(ranged == "206" && partBytes == original[1000...1999])

        // Deleting an image on node 1 while node 2 ingests the same bytes for another image: the
        // new image keeps its blob, whichever comes first.
        for round in 0..<3 {
            let holder = round == 0 ? image : try await upload(through: two, title: "holder \(round)")
            _ = await active(holder, on: two)
            async let deleted = one.request("DELETE", "/v1/image/\(holder)")
            let twin = try await upload(through: two, title: "twin \(round)")
            let deleteStatus = try await deleted.status
            #expect(deleteStatus == 200 || deleteStatus == 204)
            let record = await active(twin, on: one)
            #expect(record["checksum"] as? String == digest, "round \(round): \(record)")
            let copy = second.url.appendingPathComponent("twin-\(round).img")
            let status = try await curl(["-o", copy.path, "-w", "%{http_code}", "http://127.0.0.1:\(one.port)/v1/image/\(twin)/file"])
            let twinDigest = try await sha256(ofFile: copy)
            #expect(status == "200" && twinDigest == digest, "round \(round): the twin's bytes are there")
        }
        for server in [one, two] { server.signal(SIGTERM) }
        for server in [one, two] { _ = try await server.waitForExit() }
    }
}
