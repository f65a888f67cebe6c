import Foundation
import Testing
import ViceAdapterTesting
import ViceCore
import ViceTestSupport
import HTTPTypes

@Suite struct DeploymentAPITests {
    @Test func theSeedExampleIsRefusedBecauseItNamesNoRealImage() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            expectError(try await api.send(.post, "/v1/deploy", as: "alice", json: SeedExamples.deployment), 405,
                        kind: "invalidInput", mentioning: "imageid 'aeiou'")
        }
    }

    @Test func deploymentsNeedTheCallersImageAndEnvironment() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let image = try #require(try await api.send(.post, "/v1/images", as: "alice", json: #"{"contenttype": "disk-raw"}"#).string("id"))
            let environment = try #require(try await api.send(.post, "/v1/environments", as: "alice",
                                                              json: memoryEnvironmentJSON(cloud: "c")).string("id"))
            expectError(try await api.send(.post, "/v1/deploy", as: "alice", json: #"{"environmentId": "\#(environment)"}"#),
                        405, mentioning: "imageid is required")
            expectError(try await api.send(.post, "/v1/deploy", as: "alice", json: #"{"imageid": "\#(image)"}"#),
                        405, mentioning: "environmentId is required")
            expectError(try await api.send(.post, "/v1/deploy", as: "alice",
                                           json: #"{"imageid": "\#(image)", "environmentId": "nosuchenv"}"#),
                        405, mentioning: "environmentId 'nosuchenv'")
            expectError(try await api.send(.post, "/v1/deploy", as: "alice", json: #"{"imageid": 7}"#), 405, mentioning: "imageid")
            let created = try await api.send(.post, "/v1/deploy", as: "alice",
                                             json: #"{"imageid": "\#(image)", "environmentId": "\#(environment)", "id": "mine"}"#)
            #expect(created.status == 201)
            #expect(created.string("id") != "mine")
            #expect(created.string("status") == "queued")
            #expect(created.string("userid") == harness.alice.id)
            #expect(try await harness.fixture.registry.runtimeStats().exportsPending == 1)
        }
    }

    @Test func aDeployTheTargetsAdapterCannotTakeIsRefusedBeforeAnyJobExists() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let image = try #require(try await api.send(.post, "/v1/images", as: "alice", json: #"{"contenttype": "disk-qcow2"}"#).string("id"))
            let limited = try #require(try await api.send(.post, "/v1/environments", as: "alice",
                                                          json: #"{"managementlayer": {"software": "containers-only"}}"#).string("id"))
            let unknown = try #require(try await api.send(.post, "/v1/environments", as: "alice",
                                                          json: #"{"managementlayer": {"software": "mainframe"}}"#).string("id"))
            expectError(try await api.send(.post, "/v1/deploy", as: "alice", json: #"{"imageid": "\#(image)", "environmentId": "\#(limited)"}"#),
                        405, mentioning: "cannot deploy disk-qcow2")
            expectError(try await api.send(.post, "/v1/deploy", as: "alice", json: #"{"imageid": "\#(image)", "environmentId": "\#(unknown)"}"#),
                        405, mentioning: "no adapter is registered for managementlayer.software 'mainframe'")
            let stats = try await api.send(.get, "/v1/runtimestats", as: "alice")
            #expect(stats.object["exportsPending"] as? Int == 0)
            #expect(try await api.send(.get, "/v1/deployments", as: "alice").array.isEmpty)
        }
    }

    @Test func listGetAndDeleteWith404ForUnknownIds() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let image = try #require(try await api.send(.post, "/v1/images", as: "alice", json: #"{"contenttype": "disk-raw"}"#).string("id"))
            let environment = try #require(try await api.send(.post, "/v1/environments", as: "alice",
                                                              json: memoryEnvironmentJSON(cloud: "c")).string("id"))
            var ids: [String] = []
            for n in 0..<3 {
                let created = try await api.send(.post, "/v1/deploy", as: "alice",
                                                 json: #"{"title": "d\#(n)", "imageid": "\#(image)", "environmentId": "\#(environment)"}"#)
                ids.append(try #require(created.string("id")))
            }
            #expect(try await api.send(.get, "/v1/deployments", as: "alice").array.compactMap { $0["id"] as? String } == ids)
            let first = try await api.send(.get, "/v1/deployments?limit=2", as: "alice")
            #expect(first.array.count == 2)
            let marker = try #require(first.headers[.init("X-Next-Marker")!])
            let second = try await api.send(.get, "/v1/deployments?limit=2&marker=\(marker)", as: "alice")
            #expect(second.array.compactMap { $0["id"] as? String } == [ids[2]])
            expectError(try await api.send(.get, "/v1/deployments?limit=-1", as: "alice"), 405)

            let fetched = try await api.send(.get, "/v1/deployment/\(ids[0])", as: "alice")
            #expect(fetched.status == 200 && fetched.string("title") == "d0")
            expectError(try await api.send(.get, "/v1/deployment/nosuchdeployment", as: "alice"), 404)
            expectError(try await api.send(.delete, "/v1/deployment/nosuchdeployment", as: "alice"), 404)
            let deleted = try await api.send(.delete, "/v1/deployment/\(ids[0])", as: "alice")
            #expect(deleted.status == 200)
            #expect(deleted.string("status") == "removing")
        }
    }

    @Test func runtimeStatsReportPendingJobsAndWorkerSlots() async throws {
        let harness = try await APIHarness.make()
        _ = harness.fixture.registry.makeWorkerPool(queue: .store, concurrency: 3, jobs: harness.fixture.store)
        try await harness.run { api in
            let environment = try #require(try await api.send(.post, "/v1/environments", as: "alice",
                                                              json: memoryEnvironmentJSON(cloud: "c")).string("id"))
            for _ in 0..<2 {
                _ = try await api.send(.post, "/v1/images", as: "alice",
                                       json: #"{"originEnvironment": "\#(environment)", "environmentReference": "sample-raw"}"#)
            }
            let stats = try await api.send(.get, "/v1/runtimestats", as: "bob")
            #expect(stats.status == 200)
            #expect(Set(stats.object.keys) == ["importsPending", "importWorker", "exportsPending", "exportWorker", "storePending", "storeWorker"])
            #expect(stats.object["importsPending"] as? Int == 2)
            #expect(stats.object["exportsPending"] as? Int == 0)
            #expect(stats.object["storeWorker"] as? Int == 3)
            #expect(stats.object["importWorker"] as? Int == 0)
        }
    }
}
