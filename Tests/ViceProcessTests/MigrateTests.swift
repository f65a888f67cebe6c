import Foundation
import Testing
import ViceTestSupport

/// `vice migrate`: an installation on SQLite and local files moves to PostgreSQL and S3, and the
/// registry started there serves the same users, images and bytes.
@Suite(.serialized, .tags(.process)) struct MigrateTests {
    @Test func anInstallationMovesFromSQLiteAndFilesToPostgreSQLAndS3() async throws {
        let old = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: old.url)
        var server = try await ServerProcess(directory: old.url)
        _ = try await server.object("POST", "/v1/user", json: #"{"username": "alice", "password": "alice-password-1"}"#)
        let environment = try await server.object("POST", "/v1/environments", json: """
            {"title": "lab", "managementlayer": {"software": "memory"}, "credentials": {"location": "migrate-\(UUID())", "password": "lab-secret"}}
            """)
        let file = old.url.appendingPathComponent("disk.img")
        let (made, _) = try await BlockingRun.run("dd", ["if=/dev/urandom", "of=\(file.path)", "bs=1M", "count=3", "status=none"])
        #expect(made == 0)
        let image = try await server.object("POST", "/v1/images", json: #"{"title": "moved", "contenttype": "disk-raw"}"#)
        let id = try #require(image["id"] as? String)
        let (uploaded, _) = try await BlockingRun.run("curl", ["-s", "-u", "admin:admin-password", "-X", "POST", "-T", file.path,
                                                               "-H", "Content-Type: application/octet-stream", "-o", "/dev/null",
                                                               "http://127.0.0.1:\(server.port)/v1/image/\(id)/file"])
        #expect(uploaded == 0)
        #expect(await eventually(timeout: .seconds(60)) {
            (try? await server.object("GET", "/v1/image/\(id)"))?["status"] as? String == "active"
        })
        server.signal(SIGTERM)
        _ = try await server.waitForExit()

        // The new installation: a database and a bucket of its own, the same credential key.
        let new = try MultiNodeTests.node(database: try MultiNodeTests.freshDatabase(), imports: 1, bucket: try MultiNodeTests.bucket(),
                                          key: MultiNodeTests.key(of: old))
        let target = new.url.appendingPathComponent("vice.yaml").path
        let migrated = try runVice(["migrate", "--from", "vice.yaml", "--to", target], directory: old.url)
        #expect(migrated.status == 0, "\(migrated.output)")
        #expect(migrated.output.contains("copied 2 users") && migrated.output.contains("every digest checked"), "\(migrated.output)")
        let again = try runVice(["migrate", "--from", "vice.yaml", "--to", target], directory: old.url)
        #expect(again.status == 2 && again.output.contains("not empty"), "a second run refuses: \(again.output)")

        server = try await ServerProcess(directory: new.url)
        let users = try await server.request("GET", "/v1/user", user: "alice", password: "alice-password-1")
        #expect(users.status == 200, "alice signs in on the new installation")
        let moved = try await server.object("GET", "/v1/image/\(id)")
        #expect(moved["status"] as? String == "active" && moved["title"] as? String == "moved")
        let copy = new.url.appendingPathComponent("copy.img")
        let (downloaded, _) = try await BlockingRun.run("curl", ["-s", "-u", "admin:admin-password", "-o", copy.path,
                                                                 "http://127.0.0.1:\(server.port)/v1/image/\(id)/file"])
        let (copied, original) = (try Data(contentsOf: copy), try Data(contentsOf: file))
        #expect(downloaded == 0 && copied == original)
        let environmentID = try #require(environment["id"] as? String)
        let health = try await server.request("GET", "/v1/environment/\(environmentID)/health")
        #expect(health.status == 200, "the sealed credentials open with the same key: \(String(describing: health.body))")
        server.signal(SIGTERM)
        _ = try await server.waitForExit()
    }
}
