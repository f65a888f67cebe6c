import Foundation
import Testing
import ViceCore
import ViceTestSupport
import HTTPTypes

@Suite struct ImageAPITests {
    @Test func theSeedExampleCreatesAQueuedImageWithItsOriginKeptButNoPassword() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let created = try await api.send(.post, "/v1/images", as: "alice", json: SeedExamples.image)
            #expect(created.status == 201)
            #expect(created.string("id") != "aeiou")
            #expect(created.string("userid") == harness.alice.id)
            #expect(created.string("status") == "queued")
            #expect(created.object["imported"] as? Bool == false)  // a client cannot claim it
            #expect(created.string("contenttype") == "disk-raw")
            let origin = created.object["originEnvironment"] as? [String: Any]
            #expect(origin?["title"] as? String == "aeiou")
            #expect(origin?["id"] == nil)  // inline: not one of alice's environments
            #expect((origin?["credentials"] as? [String: Any])?["password"] == nil)
            #expect(try await harness.fixture.registry.runtimeStats().importsPending == 1)
        }
    }

    @Test func anImageCanReferToItsOriginById() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let environment = try await api.send(.post, "/v1/environments", as: "alice", json: memoryEnvironmentJSON(cloud: "c"))
            let environmentID = try #require(environment.string("id"))
            for origin in ["\"\(environmentID)\"", "{\"id\": \"\(environmentID)\"}"] {
                let created = try await api.send(.post, "/v1/images", as: "alice", json: """
                    {"title": "by id", "originEnvironment": \(origin), "environmentReference": "sample-raw"}
                    """)
                #expect(created.status == 201)
                #expect((created.object["originEnvironment"] as? [String: Any])?["id"] as? String == environmentID)
            }
            expectError(try await api.send(.post, "/v1/images", as: "alice",
                                           json: #"{"originEnvironment": "nosuchenv", "environmentReference": "x"}"#),
                        405, mentioning: "not one of your environments")
            expectError(try await api.send(.post, "/v1/images", as: "alice",
                                           json: #"{"originEnvironment": "\#(environmentID)"}"#),
                        405, mentioning: "environmentReference")
            expectError(try await api.send(.post, "/v1/images", as: "alice", json: #"{"contenttype": "disk-iso"}"#),
                        405, mentioning: "disk-qcow2")
            expectError(try await api.send(.post, "/v1/images", as: "alice", json: #"{"imagetype": "explicit"}"#), 405)
            expectError(try await api.send(.post, "/v1/images", as: "alice", json: #"{"title": ["a"]}"#), 405, mentioning: "title")
        }
    }

    @Test func anImportAnAdapterCannotDoIsRefused() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let limited = try await api.send(.post, "/v1/environments", as: "alice",
                                             json: #"{"title": "c", "managementlayer": {"software": "containers-only"}}"#)
            let id = try #require(limited.string("id"))
            expectError(try await api.send(.post, "/v1/images", as: "alice", json: """
                {"originEnvironment": "\(id)", "environmentReference": "x", "contenttype": "disk-vmdk"}
                """), 405, mentioning: "cannot import disk-vmdk")
            #expect(try await harness.fixture.registry.runtimeStats().importsPending == 0)
        }
    }

    @Test func listsPageWithLimitAndMarkerAndSearch() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            var ids: [String] = []
            for (title, type) in [("Ubuntu server", "disk-qcow2"), ("ubuntu desktop", "disk-raw"), ("Debian", "disk-qcow2"),
                                  ("Alpine", "docker-image"), ("Fedora", "disk-qcow2")] {
                let created = try await api.send(.post, "/v1/images", as: "alice",
                                                 json: #"{"title": "\#(title)", "contenttype": "\#(type)", "imagetype": "implicit"}"#)
                ids.append(try #require(created.string("id")))
            }
            let all = try await api.send(.get, "/v1/images", as: "alice")
            #expect(all.array.compactMap { $0["id"] as? String } == ids)
            #expect(all.headers[values: .init("Link")!].isEmpty)

            var seen: [String] = []
            var uri = "/v1/images?limit=2"
            var pages = 0
            while true {
                let page = try await api.send(.get, uri, as: "alice")
                #expect(page.status == 200)
                seen += page.array.compactMap { $0["id"] as? String }
                pages += 1
                guard let link = page.headers[.init("Link")!] else { break }
                #expect(page.headers[.init("X-Next-Marker")!] == seen.last)
                let start = try #require(link.firstIndex(of: "<"))
                let end = try #require(link.firstIndex(of: ">"))
                uri = String(link[link.index(after: start)..<end])
                #expect(link.hasSuffix(#"rel="next""#))
            }
            #expect(seen == ids)
            #expect(pages == 3)

            func titles(_ query: String) async throws -> [String] {
                try await api.send(.get, "/v1/images?\(query)", as: "alice").array.compactMap { $0["title"] as? String }
            }
            #expect(try await titles("q=ubuntu") == ["Ubuntu server", "ubuntu desktop"])
            #expect(try await titles("q=ubuntu&contenttype=disk-qcow2") == ["Ubuntu server"])
            #expect(try await titles("contenttype=docker-image") == ["Alpine"])
            #expect(try await titles("status=queued&limit=1") == ["Ubuntu server"])
            #expect(try await titles("status=failed") == [])
            #expect(try await titles("imagetype=declarative") == [])
            expectError(try await api.send(.get, "/v1/images?limit=0", as: "alice"), 405, mentioning: "limit")
            expectError(try await api.send(.get, "/v1/images?limit=abc", as: "alice"), 405)
            expectError(try await api.send(.get, "/v1/images?limit=5000", as: "alice"), 405)
            expectError(try await api.send(.get, "/v1/images?marker=nosuchimage", as: "alice"), 405, mentioning: "marker")
            expectError(try await api.send(.get, "/v1/images?status=gone", as: "alice"), 405, mentioning: "active")
        }
    }

    @Test func getUpdateAndDeleteByIdWith404ForUnknownIds() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let created = try await api.send(.post, "/v1/images", as: "alice",
                                             json: #"{"title": "t", "contenttype": "disk-raw", "specifics": {"os": "linux"}}"#)
            let id = try #require(created.string("id"))
            let fetched = try await api.send(.get, "/v1/image/\(id)", as: "alice")
            #expect(fetched.status == 200)
            #expect((fetched.object["specifics"] as? [String: Any])?["os"] as? String == "linux")
            let updated = try await api.send(.put, "/v1/images", as: "alice",
                                             json: #"{"id": "\#(id)", "title": "renamed", "imagetype": "declarative"}"#)
            #expect(updated.status == 201)
            #expect(updated.string("title") == "renamed")
            #expect(updated.string("imagetype") == "declarative")
            #expect(updated.string("contenttype") == "disk-raw")
            expectError(try await api.send(.put, "/v1/images", as: "alice", json: #"{"id": "nosuchimage"}"#), 404)
            expectError(try await api.send(.put, "/v1/images", as: "alice", json: #"{"title": "no id"}"#), 405)
            expectError(try await api.send(.get, "/v1/image/nosuchimage", as: "alice"), 404)
            expectError(try await api.send(.delete, "/v1/image/nosuchimage", as: "alice"), 404)
            #expect(try await api.send(.delete, "/v1/image/\(id)", as: "alice").status == 200)
            expectError(try await api.send(.get, "/v1/image/\(id)", as: "alice"), 404)
        }
    }

    @Test func fileRoutesCheckOwnershipAndSayWhenThereAreNoBytesYet() async throws {
        let harness = try await APIHarness.make()
        try await harness.run { api in
            let created = try await api.send(.post, "/v1/images", as: "alice", json: #"{"title": "t"}"#)
            let id = try #require(created.string("id"))
            expectError(try await api.send(.get, "/v1/image/\(id)/file", as: "alice"), 409, kind: "conflict", mentioning: "status queued")
            expectError(try await api.send(.get, "/v1/image/nosuchimage/file", as: "alice"), 404)
            expectError(try await api.send(.post, "/v1/image/nosuchimage/file", as: "alice", body: [1]), 404)
            expectError(try await api.send(.get, "/v1/image/\(id)/file", as: "bob"), 404)
            expectError(try await api.send(.post, "/v1/image/\(id)/file", as: "bob", body: [1]), 404)
        }
    }
}
