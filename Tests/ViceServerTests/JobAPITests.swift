import Foundation
import Hummingbird
import Testing
import ViceCore
import ViceInMemory
import ViceSQLite
import ViceTestSupport

/// Jobs as a REST caller watches them: progress while an import runs, cancel, retry, and who
/// may see which job.
@Suite struct JobAPITests {
    /// An in-memory environment whose transfers take `delayMs` per 64 KiB chunk.
    func slowEnvironment(cloud: String, delayMs: Int) -> String {
        """
        {"title": "slow", "credentials": {"location": "\(cloud)", "username": "tester", "password": "cloud-secret",
                                          "specifics": {"chunkDelayMs": "\(delayMs)"}},
         "managementlayer": {"type": "cloudcomputing", "software": "memory"},
         "runtimetechnology": {"type": "virtualmachine", "software": "kvm"}}
        """
    }

    func importImage(_ api: APIClient, env: String, reference: String = "sample-raw") async throws -> (image: String, job: String) {
        let created = try await api.send(.post, "/v1/images", as: "bob", json: """
            {"title": "watched", "originEnvironment": "\(env)", "environmentReference": "\(reference)"}
            """)
        #expect(created.status == 201, "\(created.text)")
        return (try #require(created.string("id")), try #require(created.string("jobId"), "\(created.text)"))
    }

    @Test func aRunningImportShowsItsBytesRisingAndEndsSucceeded() async throws {
        let harness = try await APIHarness.make()
        _ = try await harness.fixture.user("carol")
        harness.fixture.startWorkers()
        try await harness.run { api in
            // 1 MiB in 16 chunks of 150 ms: about 2.4 s, progress saved every second.
            let env = try #require(try await api.send(.post, "/v1/environments", as: "bob",
                                                      json: slowEnvironment(cloud: "progress-\(UUID())", delayMs: 150)).string("id"))
            let (image, job) = try await importImage(api, env: env)
            var seen: [[String: Any]] = []
            var final: [String: Any] = [:]
            let ended = try await eventually(timeout: .seconds(30)) {
                final = try await api.send(.get, "/v1/jobs/\(job)", as: "bob").object
                if final["state"] as? String == "running", let done = final["bytesDone"] as? Int, done > 0, done < 1 << 20 {
                    seen.append(final)
                }
                return final["state"] as? String == "succeeded"
            }
            #expect(ended, "\(final)")
            #expect(!seen.isEmpty, "bytesDone was seen between 0 and the total while the job ran")
            for running in seen {
                #expect(running["phase"] as? String == "downloading" && running["bytesTotal"] as? Int == 1 << 20, "\(running)")
            }
            #expect(final["kind"] as? String == "import-image" && final["imageId"] as? String == image)
            // (One attempt, unless a starved heartbeat let the 5 s test lease run out and it was claimed again.)
            #expect((final["attempts"] as? Int ?? 0) >= 1 && final["finishedAt"] != nil && final["startedAt"] != nil && final["error"] == nil)
            #expect(final["bytesDone"] as? Int == 1 << 20)
            #expect(try await api.send(.get, "/v1/image/\(image)", as: "bob").string("jobId") == job)

            // Listed for its owner (filtered by image, by state, by kind), invisible to others.
            #expect(try await api.send(.get, "/v1/jobs?imageId=\(image)", as: "bob").array.map { $0["id"] as? String } == [job])
            #expect(try await api.send(.get, "/v1/jobs?state=succeeded&kind=import-image", as: "bob").array.count == 1)
            #expect(try await api.send(.get, "/v1/jobs?state=failed,cancelled", as: "bob").array.isEmpty)
            #expect(try await api.send(.get, "/v1/jobs", as: "carol").array.isEmpty)
            expectError(try await api.send(.get, "/v1/jobs/\(job)", as: "carol"), 404)
            #expect(try await api.send(.get, "/v1/jobs/\(job)", as: "alice").status == 200, "admins see every job")
            expectError(try await api.send(.get, "/v1/jobs?state=sleeping", as: "bob"), 405, mentioning: "state")
            expectError(try await api.send(.get, "/v1/jobs?kind=nap", as: "bob"), 405, mentioning: "kind")
        }
        await harness.fixture.stopWorkers()
    }

    @Test func cancellingARunningImportStopsItKeepsNothingAndARetryFinishesIt() async throws {
        let harness = try await APIHarness.make()
        harness.fixture.startWorkers()
        try await harness.run { api in
            let env = try #require(try await api.send(.post, "/v1/environments", as: "bob",
                                                      json: slowEnvironment(cloud: "cancel-\(UUID())", delayMs: 250)).string("id"))
            let (image, job) = try await importImage(api, env: env)
            #expect(try await eventually {
                (try await api.send(.get, "/v1/jobs/\(job)", as: "bob").object["bytesDone"] as? Int ?? 0) > 0
            })
            let cancel = try await api.send(.delete, "/v1/jobs/\(job)", as: "bob")
            #expect(cancel.status == 202 || cancel.status == 200, "\(cancel.text)")
            #expect(try await eventually { try await api.send(.get, "/v1/jobs/\(job)", as: "bob").string("state") == "cancelled" })
            let cancelled = try await api.send(.get, "/v1/image/\(image)", as: "bob")
            #expect(cancelled.string("status") == "cancelled" && cancelled.object["checksum"] == nil, "\(cancelled.text)")
            let store = harness.fixture.directory.file("store")
            let kept = FileManager.default.enumerator(atPath: store)?.allObjects.compactMap { $0 as? String }
                .filter { $0.hasPrefix("blobs/sha256/") && $0.count > 20 } ?? []
            #expect(kept.isEmpty, "a cancelled import keeps no bytes: \(kept)")
            expectError(try await api.send(.delete, "/v1/jobs/\(job)", as: "bob"), 409, mentioning: "cancelled")

            let retried = try await api.send(.post, "/v1/jobs/\(job)/retry", as: "bob")
            #expect(retried.status == 202 && retried.string("state") == "queued", "\(retried.text)")
            #expect(try await eventually(timeout: .seconds(30)) {
                try await api.send(.get, "/v1/image/\(image)", as: "bob").string("status") == "active"
            })
            let done = try await api.send(.get, "/v1/jobs/\(job)", as: "bob").object
            #expect(done["state"] as? String == "succeeded" && done["attempts"] as? Int == 1)
            expectError(try await api.send(.post, "/v1/jobs/\(job)/retry", as: "bob"), 409, mentioning: "succeeded")
        }
        await harness.fixture.stopWorkers()
    }

    @Test func aFailedImportIsRetriedOnceItsCauseIsGone() async throws {
        let harness = try await APIHarness.make()
        harness.fixture.startWorkers()
        let cloud = "retry-\(UUID())"
        try await harness.run { api in
            let env = try #require(try await api.send(.post, "/v1/environments", as: "bob", json: memoryEnvironmentJSON(cloud: cloud)).string("id"))
            let (image, job) = try await importImage(api, env: env, reference: "appears-later")
            #expect(try await eventually { try await api.send(.get, "/v1/jobs/\(job)", as: "bob").string("state") == "failed" })
            let failed = try await api.send(.get, "/v1/jobs/\(job)", as: "bob").object
            let error = try #require(failed["error"] as? [String: Any])
            #expect(error["kind"] as? String == "permanent" && (error["message"] as? String)?.contains("appears-later") == true)
            #expect(try await api.send(.get, "/v1/image/\(image)", as: "bob").string("status") == "failed")

            InMemoryCloud.named(cloud, owner: "bob").put(InMemoryCloud.StoredImage(
                reference: "appears-later", title: "late", contenttype: .diskRaw, bytes: InMemoryCloud.pseudoRandomBytes(count: 4096, seed: 9)))
            #expect(try await api.send(.post, "/v1/jobs/\(job)/retry", as: "bob").status == 202)
            #expect(try await eventually { try await api.send(.get, "/v1/image/\(image)", as: "bob").string("status") == "active" })
            #expect(try await api.send(.get, "/v1/jobs/\(job)", as: "bob").string("state") == "succeeded")
        }
        await harness.fixture.stopWorkers()
    }

    @Test func aDeployWaitingForItsImageTellsOfItOnceAndSaysWhy() async throws {
        let harness = try await APIHarness.make()
        harness.fixture.startWorkers()
        try await harness.run { api in
            let env = try #require(try await api.send(.post, "/v1/environments", as: "bob", json: memoryEnvironmentJSON(cloud: "wait-\(UUID())")).string("id"))
            let image = try #require(try await api.send(.post, "/v1/images", as: "bob", json: #"{"title": "later", "contenttype": "disk-raw"}"#).string("id"))
            let deployment = try await api.send(.post, "/v1/deploy", as: "bob", json: #"{"imageid": "\#(image)", "environmentId": "\#(env)"}"#)
            let job = try #require(deployment.string("jobId"))
            // It defers every 2 s while the image has no bytes: a note, no error, and no new events.
            #expect(try await eventually { try await api.send(.get, "/v1/jobs/\(job)", as: "bob").string("note")?.contains("waiting for image") == true })
            try await Task.sleep(for: .seconds(5))
            let waiting = try await api.send(.get, "/v1/jobs/\(job)", as: "bob").object
            #expect(waiting["error"] == nil && waiting["phase"] as? String == "waiting-for-image", "\(waiting)")
            let told = try await harness.fixture.store.read { try $0.events(after: 0, ownerID: nil, limit: 1000) }
                .filter { $0.kind == .jobState && $0.subjectID == job }
            #expect(told.count <= 3, "queued, running, waiting — not one per retry: \(told.count)")
            // The upload comes: the deploy goes on, and that is told.
            let upload = try await api.send(.post, "/v1/image/\(image)/file", as: "bob",
                                            headers: [.contentType: "application/octet-stream"], body: [UInt8](repeating: 7, count: 4096))
            #expect(upload.status == 201 || upload.status == 200 || upload.status == 202, "\(upload.text)")
            #expect(try await eventually(timeout: .seconds(30)) { try await api.send(.get, "/v1/jobs/\(job)", as: "bob").string("state") == "succeeded" })
            let states = try await harness.fixture.store.read { try $0.events(after: 0, ownerID: nil, limit: 1000) }
                .filter { $0.kind == .jobState && $0.subjectID == job }.compactMap { event -> String? in
                    guard case .object(let fields) = event.data, case .string(let state)? = fields["state"] else { return nil }
                    return state
                }
            #expect(states.last == "succeeded", "\(states)")
        }
        await harness.fixture.stopWorkers()
    }

    @Test func aQueuedDeployIsCancelledAtOnceAndARemovalCannotBe() async throws {
        let harness = try await APIHarness.make()
        let cloud = "queued-\(UUID())"
        try await harness.run { api in
            let env = try #require(try await api.send(.post, "/v1/environments", as: "bob", json: memoryEnvironmentJSON(cloud: cloud)).string("id"))
            let image = try #require(try await api.send(.post, "/v1/images", as: "bob", json: #"{"title": "up", "contenttype": "disk-raw"}"#).string("id"))
            // No workers run: the deploy stays queued.
            let deployment = try await api.send(.post, "/v1/deploy", as: "bob", json: #"{"imageid": "\#(image)", "environmentId": "\#(env)"}"#)
            let id = try #require(deployment.string("id"), "\(deployment.text)")
            let job = try #require(deployment.string("jobId"))
            let cancel = try await api.send(.delete, "/v1/jobs/\(job)", as: "bob")
            #expect(cancel.status == 200 && cancel.string("state") == "cancelled", "\(cancel.text)")
            let cancelled = try await api.send(.get, "/v1/deployment/\(id)", as: "bob")
            #expect(cancelled.string("status") == "cancelled", "\(cancelled.text)")

            let removing = try await api.send(.delete, "/v1/deployment/\(id)", as: "bob")
            let removal = try #require(removing.string("jobId"))
            #expect(removal != job)
            expectError(try await api.send(.delete, "/v1/jobs/\(removal)", as: "bob"), 409, mentioning: "removal")
            expectError(try await api.send(.delete, "/v1/jobs/no-such-job", as: "bob"), 404)
            expectError(try await api.send(.post, "/v1/jobs/no-such-job/retry", as: "bob"), 404)
        }
    }
}

/// Webhooks through the API: creation rules, no secret in answers, and deliveries that do not
/// feed themselves.
@Suite struct WebhookAPITests {
    @Test func webhooksAreCheckedAtCreationAndNeverShowTheirSecret() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let created = try await api.send(.post, "/v1/webhooks", as: "bob", json: """
                {"url": "https://hooks.example.org/vice", "secret": "sixteen chars or more", "events": ["job.state"]}
                """)
            #expect(created.status == 201 && created.object["secret"] == nil, "\(created.text)")
            let id = try #require(created.string("id"))
            #expect(!(try await api.send(.get, "/v1/webhooks/\(id)", as: "bob").text.contains("sixteen")))
            #expect(!(try await api.send(.get, "/v1/webhooks", as: "bob").text.contains("sixteen")))
            expectError(try await api.send(.get, "/v1/webhooks/\(id)", as: "carol", password: nil), 401)
            for (body, words) in [
                (#"{"url": "https://hooks.example.org/x", "secret": "short"}"#, "secret"),
                (#"{"url": "ftp://hooks.example.org/x", "secret": "sixteen chars or more"}"#, "http"),
                (#"{"url": "http://127.0.0.1:9/x", "secret": "sixteen chars or more"}"#, "loopback"),
                (#"{"url": "http://169.254.169.254/latest", "secret": "sixteen chars or more"}"#, "link-local"),
                (#"{"url": "https://hooks.example.org/x", "secret": "sixteen chars or more", "events": ["everything"]}"#, "unknown event"),
            ] {
                expectError(try await api.send(.post, "/v1/webhooks", as: "bob", json: body), 405, mentioning: words)
            }
            #expect(try await api.send(.delete, "/v1/webhooks/\(id)", as: "bob").status == 200)
            expectError(try await api.send(.get, "/v1/webhooks/\(id)", as: "bob"), 404)
        }
    }

    @Test func deliveriesAreNoEventsOfTheirOwn() async throws {
        let harness = try await APIHarness.make()
        harness.fixture.startWorkers()
        try await harness.run { api in
            // Every kind but progress; the fixture has no HTTP client, so each try fails and retries.
            for _ in 0..<2 {
                #expect(try await api.send(.post, "/v1/webhooks", as: "bob", json: #"{"url": "https://hooks.example.org/x", "secret": "sixteen chars or more"}"#).status == 201)
            }
            _ = try await api.send(.post, "/v1/images", as: "bob", json: #"{"title": "one event"}"#)
            func deliveries() async throws -> Int {
                try await harness.fixture.store.read { try $0.jobs(JobQuery(kind: .deliverWebhook)) }.count
            }
            // One image.status event, two webhooks: two deliveries, however often they are tried.
            #expect(try await eventually { try await deliveries() == 2 })
            try await Task.sleep(for: .seconds(1))
            #expect(try await deliveries() == 2)
        }
        await harness.fixture.stopWorkers()
    }
}
