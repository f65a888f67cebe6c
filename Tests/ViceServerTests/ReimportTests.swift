import Foundation
import Hummingbird
import Testing
import ViceCore
import ViceSQLite
import ViceTestSupport

/// No accidental work: an imported image that goes GET → edit → PUT moves no bytes, whether its
/// origin was given by id or inline; an import is asked for with `POST /v1/image/{id}/import`.
@Suite struct ReimportTests {
    func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    func importJobs(_ harness: APIHarness, _ id: String) async throws -> Int {
        try await harness.fixture.store.read { try $0.jobs(subjectID: id) }.filter { $0.kind == .importImage }.count
    }

    @Test func editingAnImportedImageMovesNoBytesAndAnImportIsAskedForExplicitly() async throws {
        let harness = try await APIHarness.make()
        _ = try await harness.fixture.user("carol")
        harness.fixture.startWorkers()
        let cloud = "reimport-\(UUID())"
        try await harness.run { api in
            let env = try #require(try await api.send(.post, "/v1/environments", as: "bob", json: memoryEnvironmentJSON(cloud: cloud)).string("id"))
            let byID = try #require(try await api.send(.post, "/v1/images", as: "bob", json: """
                {"title": "by id", "originEnvironment": "\(env)", "environmentReference": "sample-raw"}
                """).string("id"))
            let inline = try #require(try await api.send(.post, "/v1/images", as: "bob", json: """
                {"title": "inline", "originEnvironment": \(memoryEnvironmentJSON(cloud: cloud)), "environmentReference": "sample-qcow2"}
                """).string("id"))
            for id in [byID, inline] {
                #expect(try await eventually { try await api.send(.get, "/v1/image/\(id)", as: "bob").string("status") == "active" })
            }
            await harness.fixture.stopWorkers()
            for id in [byID, inline] {
                var image = try await api.send(.get, "/v1/image/\(id)", as: "bob").object
                #expect(image["imported"] as? Bool == true)
                image["title"] = "renamed"
                let put = try await api.send(.put, "/v1/images", as: "bob", json: try json(image))
                #expect(put.status == 201, "\(put.text)")
                #expect(put.string("title") == "renamed")
                #expect(put.string("status") == "active")
                #expect(put.string("statusMessage") == nil, "\(put.text)")
                #expect(try await importJobs(harness, id) == 0, "an edit queued no import")
            }
            // Asked for, an import is queued once, and the inline origin kept its credentials.
            harness.fixture.startWorkers()
            let asked = try await api.send(.post, "/v1/image/\(inline)/import", as: "bob")
            #expect(asked.status == 200 && asked.string("statusMessage") == "re-import queued", "\(asked.text)")
            #expect(try await eventually {
                let image = try await api.send(.get, "/v1/image/\(inline)", as: "bob")
                return image.string("status") == "active" && image.string("statusMessage") == nil
            })
            // Only the owner may ask; an image without an origin has nothing to import from.
            expectError(try await api.send(.post, "/v1/image/\(inline)/import", as: "carol"), 404)
            let uploaded = try #require(try await api.send(.post, "/v1/images", as: "bob", json: #"{"title": "up", "contenttype": "disk-raw"}"#).string("id"))
            expectError(try await api.send(.post, "/v1/image/\(uploaded)/import", as: "bob"), 405, mentioning: "no origin")
        }
        await harness.fixture.stopWorkers()
    }
}
