import Foundation
import Testing
import ViceTestSupport

/// `GET /metrics` as Prometheus reads it (parsed by the `prometheus_client` parser), with values
/// that move after a known cycle of requests and jobs; `GET /health` and `GET /ready` without
/// credentials, and `/ready` once the database is gone.
@Suite(.serialized, .tags(.process)) struct MetricsProcessTests {
    static let token = "scrape-token-of-twenty-six"

    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    /// Scrapes and parses; fails when the parser refuses the text.
    static func scrape(_ server: ServerProcess, token: String? = Self.token) async throws -> (status: Int, samples: [Sample]) {
        var arguments = ["-s", "-S", "--max-time", "30", "-w", "\n%{http_code}", "http://127.0.0.1:\(server.port)/metrics"]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        let (status, output) = try await BlockingRun.run("curl", arguments)
        guard status == 0, let newline = output.lastIndex(of: "\n"), let code = Int(output[output.index(after: newline)...]) else {
            throw ProcessTestError(description: "curl /metrics failed: \(output)")
        }
        guard code == 200 else { return (code, []) }
        let parser = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peers/parse_metrics.py")
        let (parsed, json) = try await BlockingRun.run("python3", [parser.path], input: String(output[..<newline]))
        guard parsed == 0, let items = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else {
            throw ProcessTestError(description: "the Prometheus parser refused the metrics: \(json)")
        }
        return (code, items.map { Sample(name: $0["name"] as? String ?? "", labels: $0["labels"] as? [String: String] ?? [:],
                                         value: ($0["value"] as? NSNumber)?.doubleValue ?? .nan) })
    }

    static func value(_ samples: [Sample], _ name: String, _ labels: [String: String] = [:]) -> Double {
        samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
            .reduce(0) { $0 + $1.value }
    }

    @Test func theMetricsParseAsPrometheusTextAndMoveAfterAKnownCycle() async throws {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url, extra: """
            metrics:
              access: token
              token: \(Self.token)
              environmentHealthSeconds: 0
            """)
        let server = try await ServerProcess(directory: directory.url)
        #expect(try await Self.scrape(server, token: nil).status == 401, "the scrape token is required")
        #expect(try await Self.scrape(server, token: "not-the-scrape-token-at-all").status == 401)
        let before = try await Self.scrape(server).samples
        #expect(!before.isEmpty)

        // The cycle: an environment, an import that succeeds, one that fails, a health check,
        // an upload, a download.
        let environment = try await server.object("POST", "/v1/environments", json: #"""
            {"title": "lab", "managementlayer": {"software": "memory"}, "credentials": {"location": "metrics-lab"}}
            """#)
        let environmentID = try #require(environment["id"] as? String)
        let good = try await server.object("POST", "/v1/images", json: """
            {"title": "good", "originEnvironment": "\(environmentID)", "environmentReference": "sample-raw"}
            """)
        let bad = try await server.object("POST", "/v1/images", json: """
            {"title": "bad", "originEnvironment": "\(environmentID)", "environmentReference": "not-there"}
            """)
        let goodID = try #require(good["id"] as? String), badID = try #require(bad["id"] as? String)
        #expect(await eventually(timeout: .seconds(60)) {
            let a = try? await server.object("GET", "/v1/image/\(goodID)"), b = try? await server.object("GET", "/v1/image/\(badID)")
            return a?["status"] as? String == "active" && b?["status"] as? String == "failed"
        })
        _ = try await server.request("GET", "/v1/environment/\(environmentID)/health")
        let (downloaded, _) = try await BlockingRun.run("curl", ["-s", "-f", "-u", "admin:admin-password", "-o", "/dev/null",
                                                                 "http://127.0.0.1:\(server.port)/v1/image/\(goodID)/file"])
        #expect(downloaded == 0)
        _ = try await server.request("GET", "/v1/image/AAAAAAAAAAAAAAAAAAAA")

        let after = try await Self.scrape(server).samples
        func delta(_ name: String, _ labels: [String: String] = [:]) -> Double {
            Self.value(after, name, labels) - Self.value(before, name, labels)
        }
        #expect(delta("vice_http_requests_total", ["method": "POST", "route": "/v1/images", "status": "201"]) == 2)
        #expect(delta("vice_http_requests_total", ["method": "GET", "route": "/v1/image/{imageId}", "status": "404"]) == 1,
                "ids never become labels: the route's template does")
        #expect(delta("vice_http_request_duration_seconds_count", ["method": "POST", "route": "/v1/environments"]) == 1)
        #expect(delta("vice_download_bytes_total") == 1_048_576, "the sample-raw image's bytes")
        #expect(delta("vice_job_duration_seconds_count", ["kind": "import-image", "adapter": "memory", "outcome": "succeeded"]) == 1)
        #expect(delta("vice_job_duration_seconds_count", ["kind": "import-image", "adapter": "memory", "outcome": "failed"]) == 1)
        #expect(delta("vice_adapter_errors_total", ["adapter": "memory", "operation": "import"]) == 1)
        #expect(delta("vice_adapter_calls_total", ["adapter": "memory", "operation": "import"]) == 2)
        #expect(Self.value(after, "vice_environment_healthy", ["environment": environmentID, "adapter": "memory"]) == 1)
        #expect(Self.value(after, "vice_jobs", ["kind": "import-image", "state": "failed"]) == 1)
        #expect(Self.value(after, "vice_jobs", ["kind": "import-image", "state": "succeeded"]) == 1)
        #expect(Self.value(after, "vice_images", ["status": "active"]) == 1)
        #expect(Self.value(after, "vice_images", ["status": "failed"]) == 1)
        #expect(Self.value(after, "vice_workers", ["queue": "import"]) == 2)
        #expect(Self.value(after, "vice_workers_busy", ["queue": "import"]) == 0)
        #expect(Self.value(after, "vice_store_blobs") >= 1 && Self.value(after, "vice_store_bytes") >= 1_048_576)
        #expect(after.contains { $0.name == "vice_http_request_duration_seconds_bucket" && $0.labels["le"] == "+Inf" },
                "latency histograms")
    }

    @Test func healthAndReadyNeedNoCredentialsAndReadyFailsOnceTheDatabaseIsGone() async throws {
        let database = try MultiNodeTests.freshDatabase()
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url, extra: "database:\n  postgres:\n    url: \(database)\n    poolSize: 2\n")
        let server = try await ServerProcess(directory: directory.url)
        func probe(_ path: String) async throws -> (Int, [String: Any]) {
            let (status, output) = try await BlockingRun.run("curl", ["-s", "-S", "--max-time", "30", "-w", "\n%{http_code}",
                                                                      "http://127.0.0.1:\(server.port)\(path)"])
            guard status == 0, let newline = output.lastIndex(of: "\n"), let code = Int(output[output.index(after: newline)...]) else {
                throw ProcessTestError(description: "curl \(path) failed: \(output)")
            }
            return (code, (try? JSONSerialization.jsonObject(with: Data(output[..<newline].utf8)) as? [String: Any]) ?? [:])
        }
        let (health, healthBody) = try await probe("/health")
        #expect(health == 200 && healthBody["status"] as? String == "ok")
        let (ready, readyBody) = try await probe("/ready")
        #expect(ready == 200 && readyBody["status"] as? String == "ready", "\(readyBody)")
        #expect(try await probe("/metrics").0 == 404, "metrics are off unless configured")

        // The database goes away under the running node.
        let name = try #require(URLComponents(string: database)?.path.dropFirst().description)
        let admin = try #require(ProcessInfo.processInfo.environment["VICE_TEST_POSTGRES_URL"])
        let (dropped, output) = try await BlockingRun.run("psql", ["-q", "-d", admin.replacingOccurrences(of: "?sslmode=disable", with: ""),
                                                                   "-c", "DROP DATABASE \(name) WITH (FORCE)"])
        try #require(dropped == 0, "psql: \(output)")
        var unready: [String: Any] = [:]
        #expect(await eventually(timeout: .seconds(30)) {
            guard let (code, body) = try? await probe("/ready"), code == 503 else { return false }
            unready = body
            return true
        })
        let checks = unready["checks"] as? [String: [String: Any]] ?? [:]
        #expect(unready["status"] as? String == "unready")
        #expect(checks["database"]?["ok"] as? Bool == false && checks["database"]?["message"] is String, "\(unready)")
        #expect(checks["blobStore"]?["ok"] as? Bool == true && checks["workers"]?["ok"] as? Bool == true)
        #expect(try await probe("/health").0 == 200, "alive all the same: a restart would not bring the database back")
    }
}
