import Foundation
import Testing
import ViceTestSupport

/// Two `vice serve` processes on one PostgreSQL database, as two nodes behind a load balancer:
/// what one records the other serves, a job of a node that was killed is finished by the other
/// after its lease, and a node that stalls past its lease and wakes up cannot overwrite what the
/// other recorded (fencing). Each node keeps blobs in its own folder here (the shared S3 store is
/// not there yet), so the imports run wholly on the node that finishes them.
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

    /// A node's folder and configuration: the shared database, a short lease, `imports` workers.
    static func node(database: String, imports: Int, key: URL? = nil) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(
            in: directory.url, extra: "database:\n  postgres:\n    url: \(database)\n    poolSize: 4",
            workers: "  import: \(imports)\n  export: 1\n  store: 1\n  leaseSeconds: \(lease)\n  shutdownGraceSeconds: 5")
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
        let environment = try await server.slowEnvironment(cloud: cloud, chunkDelayMs: 250)
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

        one.signal(SIGKILL)
        _ = try await one.waitForExit()
        var record: [String: Any] = [:]
        #expect(await eventually(timeout: .seconds(90)) {
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
        var record: [String: Any] = [:]
        #expect(await eventually(timeout: .seconds(90)) {
            record = (try? await two.object("GET", "/v1/image/\(image)")) ?? [:]
            return record["status"] as? String == "active"
        }, "\(record)")
        let done = try await two.object("GET", "/v1/jobs/\(job)")
        #expect(done["state"] as? String == "succeeded" && done["attempts"] as? Int == 2, "\(done)")

        // Node 1 wakes up and finishes its now stale attempt: the fencing token refuses its writes.
        one.signal(SIGCONT)
        #expect(await eventually(timeout: .seconds(60)) {
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
}
