import Crypto
import Foundation
import Hummingbird
import Testing
import ViceAdapterTesting
import ViceCore
import ViceInMemory
import ViceTestSupport

@Suite struct ImageFileAPITests {
    static let bytes = InMemoryCloud.pseudoRandomBytes(count: 5 << 20 | 12345, seed: 42)
    static let hex = SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()

    func createImage(_ api: APIClient, contenttype: String = "disk-raw") async throws -> String {
        try #require(try await api.send(.post, "/v1/images", as: "alice", json: #"{"title": "upload", "contenttype": "\#(contenttype)"}"#)
            .string("id"))
    }

    func waitUntilSettled(_ api: APIClient, _ id: String) async throws -> Exchange {
        var image = Exchange(status: 0, headers: [:], body: Data())
        _ = try await eventually {
            image = try await api.send(.get, "/v1/image/\(id)", as: "alice")
            return image.string("status") != "storing"
        }
        return image
    }

    func multipart(_ file: [UInt8], boundary: String, field: String = "upfile") -> [UInt8] {
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nsome text\r\n".utf8)
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"disk.img\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        body += file
        body += Array("\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"after\"\r\n\r\nmore\r\n--\(boundary)--\r\n".utf8)
        return body
    }

    func stagedAndBlobFiles(_ harness: APIHarness) throws -> (staged: [String], blobs: [String]) {
        let root = harness.fixture.directory.url.appendingPathComponent("store")
        let staged = (try? FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("staging").path)) ?? []
        let blobs = FileManager.default.enumerator(atPath: root.appendingPathComponent("blobs").path)?
            .compactMap { $0 as? String }.filter { ($0 as NSString).lastPathComponent.count == 64 } ?? []
        return (staged, blobs)
    }

    @Test func aRawUploadIsStoredAndDownloadsByteForByte() async throws {
        let harness = try await APIHarness.make()
        harness.fixture.startWorkers()
        try await harness.run { api in
            let id = try await createImage(api)
            let uploaded = try await api.send(.post, "/v1/image/\(id)/file", as: "alice",
                                              headers: [.contentType: "application/octet-stream"], body: Self.bytes)
            #expect(uploaded.status == 200)
            #expect(uploaded.string("status") == "storing")
            let image = try await waitUntilSettled(api, id)
            #expect(image.string("status") == "active")
            #expect(image.string("checksum") == "sha256:" + Self.hex)
            #expect(image.object["size"] as? Int == Self.bytes.count)
            // Uploaded, not imported: the flag means the bytes came from the origin environment.
            #expect(image.object["imported"] as? Bool == false)

            let download = try await api.send(.get, "/v1/image/\(id)/file", as: "alice")
            #expect(download.status == 200)
            let same = [UInt8](download.body) == Self.bytes
            #expect(same, "downloaded bytes equal the upload")
            #expect(download.headers[.contentLength] == String(Self.bytes.count))
            #expect(download.headers[.eTag] == "\"sha256:\(Self.hex)\"")
            #expect(download.headers[.acceptRanges] == "bytes")
            #expect(download.headers[.contentType] == "application/octet-stream")
            let notModified = try await api.send(.get, "/v1/image/\(id)/file", as: "alice",
                                                 headers: [.ifNoneMatch: "\"sha256:\(Self.hex)\""])
            #expect(notModified.status == 304)
            #expect(try stagedAndBlobFiles(harness).staged.isEmpty)
        }
        await harness.fixture.stopWorkers()
    }

    @Test func theSpecsMultipartFieldUpfileIsStreamedOutOfTheForm() async throws {
        let harness = try await APIHarness.make()
        harness.fixture.startWorkers()
        try await harness.run { api in
            let id = try await createImage(api)
            let boundary = "----vice-test-\(UUID().uuidString)"
            let uploaded = try await api.send(.post, "/v1/image/\(id)/file", as: "alice",
                                              headers: [.contentType: "multipart/form-data; boundary=\(boundary)"],
                                              body: multipart(Self.bytes, boundary: boundary))
            #expect(uploaded.status == 200, "\(uploaded.text)")
            let image = try await waitUntilSettled(api, id)
            #expect(image.string("checksum") == "sha256:" + Self.hex)
            let download = try await api.send(.get, "/v1/image/\(id)/file", as: "alice")
            let same = [UInt8](download.body) == Self.bytes
            #expect(same)

            let other = try await createImage(api)
            let missing = try await api.send(.post, "/v1/image/\(other)/file", as: "alice",
                                             headers: [.contentType: "multipart/form-data; boundary=\(boundary)"],
                                             body: multipart([1, 2, 3], boundary: boundary, field: "wrongname"))
            expectError(missing, 400, kind: "badRequest", mentioning: "upfile")
            let truncated = try await api.send(.post, "/v1/image/\(other)/file", as: "alice",
                                               headers: [.contentType: "multipart/form-data; boundary=\(boundary)"],
                                               body: Array(multipart([1, 2, 3], boundary: boundary).dropLast(10)))
            expectError(truncated, 400, mentioning: "closing boundary")
            expectError(try await api.send(.post, "/v1/image/\(other)/file", as: "alice",
                                           headers: [.contentType: "multipart/form-data"], body: [1]), 400, mentioning: "boundary")
            #expect(try await api.send(.get, "/v1/image/\(other)", as: "alice").string("status") == "queued")
            #expect(try stagedAndBlobFiles(harness).staged.isEmpty)
        }
        await harness.fixture.stopWorkers()
    }

    @Test func singleRangesAreServedAndOthersAnswered416OrWhole() async throws {
        let harness = try await APIHarness.make()
        harness.fixture.startWorkers()
        try await harness.run { api in
            let id = try await createImage(api)
            _ = try await api.send(.post, "/v1/image/\(id)/file", as: "alice", body: Self.bytes)
            _ = try await waitUntilSettled(api, id)
            let size = Self.bytes.count
            func get(_ range: String) async throws -> Exchange {
                try await api.send(.get, "/v1/image/\(id)/file", as: "alice", headers: [.range: range])
            }
            let first = try await get("bytes=0-99")
            #expect(first.status == 206)
            #expect(first.headers[.contentRange] == "bytes 0-99/\(size)")
            #expect([UInt8](first.body) == Array(Self.bytes[0..<100]))
            let middle = try await get("bytes=1048576-1048675")
            #expect([UInt8](middle.body) == Array(Self.bytes[1048576...1048675]))
            let suffix = try await get("bytes=-10")
            #expect(suffix.headers[.contentRange] == "bytes \(size - 10)-\(size - 1)/\(size)")
            #expect([UInt8](suffix.body) == Array(Self.bytes.suffix(10)))
            let open = try await get("bytes=\(size - 5)-")
            #expect([UInt8](open.body) == Array(Self.bytes.suffix(5)))
            let beyond = try await get("bytes=0-99999999999")
            #expect(beyond.status == 206 && beyond.body.count == size)
            let unsatisfiable = try await get("bytes=\(size)-")
            expectError(unsatisfiable, 416)
            #expect(unsatisfiable.headers[.contentRange] == "bytes */\(size)")
            let several = try await get("bytes=0-1,5-6")
            #expect(several.status == 200 && several.body.count == size)
            let other = try await get("items=0-1")
            #expect(other.status == 200)
        }
        await harness.fixture.stopWorkers()
    }

    @Test func aDigestThatDoesNotMatchIsRefusedAndNothingIsKept() async throws {
        let harness = try await APIHarness.make()
        harness.fixture.startWorkers()
        try await harness.run { api in
            let id = try await createImage(api)
            let wrong = String(repeating: "ab", count: 32)
            expectError(try await api.send(.post, "/v1/image/\(id)/file", as: "alice",
                                           headers: [.init("X-Checksum-Sha256")!: wrong], body: Self.bytes),
                        400, kind: "badRequest", mentioning: "X-Checksum-Sha256")
            let wrongContentDigest = ":" + Data(repeating: 7, count: 32).base64EncodedString() + ":"
            expectError(try await api.send(.post, "/v1/image/\(id)/file", as: "alice",
                                           headers: [.init("Content-Digest")!: "sha-256=\(wrongContentDigest)"], body: Self.bytes),
                        400, mentioning: "Content-Digest")
            expectError(try await api.send(.post, "/v1/image/\(id)/file", as: "alice",
                                           headers: [.init("Content-Digest")!: "sha-256=notbase64"], body: Self.bytes), 400)
            #expect(try await api.send(.get, "/v1/image/\(id)", as: "alice").string("status") == "queued")
            let files = try stagedAndBlobFiles(harness)
            #expect(files.staged.isEmpty && files.blobs.isEmpty)
            expectError(try await api.send(.get, "/v1/image/\(id)/file", as: "alice"), 409, kind: "conflict", mentioning: "no stored bytes")

            // The right digests are accepted.
            let right = ":" + Data(SHA256.hash(data: Self.bytes)).base64EncodedString() + ":"
            let accepted = try await api.send(.post, "/v1/image/\(id)/file", as: "alice",
                                              headers: [.init("Content-Digest")!: "sha-512=:abc:, sha-256=\(right)",
                                                        .init("X-Checksum-Sha256")!: Self.hex.uppercased()],
                                              body: Self.bytes)
            #expect(accepted.status == 200, "\(accepted.text)")
            #expect(try await waitUntilSettled(api, id).string("status") == "active")
        }
        await harness.fixture.stopWorkers()
    }

    @Test func bytesThatAreNotTheDeclaredTypeFailTheImageAndAreDeleted() async throws {
        let harness = try await APIHarness.make()
        harness.fixture.startWorkers()
        try await harness.run { api in
            let id = try await createImage(api, contenttype: "disk-qcow2")
            #expect(try await api.send(.post, "/v1/image/\(id)/file", as: "alice", body: Self.bytes).status == 200)
            let image = try await waitUntilSettled(api, id)
            #expect(image.string("status") == "failed")
            #expect(image.string("statusMessage")?.contains("declared disk-qcow2 but the bytes are a raw disk") == true)
            let files = try stagedAndBlobFiles(harness)
            #expect(files.staged.isEmpty && files.blobs.isEmpty)

            // Without a declared type, the registry names what it sees.
            let untyped = try #require(try await api.send(.post, "/v1/images", as: "alice", json: #"{"title": "guess"}"#).string("id"))
            _ = try await api.send(.post, "/v1/image/\(untyped)/file", as: "alice",
                                   body: Array("# syntax=docker/dockerfile:1\nFROM alpine:3\nRUN true\n".utf8))
            let detected = try await waitUntilSettled(api, untyped)
            #expect(detected.string("contenttype") == "docker-file")
            let text = try await api.send(.get, "/v1/image/\(untyped)/file", as: "alice")
            #expect(text.headers[.contentType]?.hasPrefix("text/x-dockerfile") == true)
        }
        await harness.fixture.stopWorkers()
    }

    @Test func identicalUploadsAreStoredOnceAndTheLastDeleteFreesTheBlob() async throws {
        let harness = try await APIHarness.make()
        harness.fixture.startWorkers()
        try await harness.run { api in
            var ids: [String] = []
            for _ in 0..<2 {
                let id = try await createImage(api)
                _ = try await api.send(.post, "/v1/image/\(id)/file", as: "alice", body: Self.bytes)
                #expect(try await waitUntilSettled(api, id).string("checksum") == "sha256:" + Self.hex)
                ids.append(id)
            }
            #expect(try stagedAndBlobFiles(harness).blobs.count == 1)
            _ = try await api.send(.delete, "/v1/image/\(ids[0])", as: "alice")
            #expect(try stagedAndBlobFiles(harness).blobs.count == 1)
            let stillThere = try await api.send(.get, "/v1/image/\(ids[1])/file", as: "alice")
            #expect(stillThere.body.count == Self.bytes.count)
            _ = try await api.send(.delete, "/v1/image/\(ids[1])", as: "alice")
            #expect(try stagedAndBlobFiles(harness).blobs.isEmpty)
        }
        await harness.fixture.stopWorkers()
    }

    @Test func uploadsOverTheLimitAre413AndLeaveNothing() async throws {
        let harness = try await APIHarness.make()
        try await harness.run(maxUploadBytes: 1 << 20) { api in
            let id = try await createImage(api)
            expectError(try await api.send(.post, "/v1/image/\(id)/file", as: "alice", body: Self.bytes), 413, kind: "payloadTooLarge")
            #expect(try stagedAndBlobFiles(harness).staged.isEmpty)
            expectError(try await api.send(.post, "/v1/image/nosuchimage/file", as: "alice", body: [1]), 404)
            expectError(try await api.send(.post, "/v1/image/\(id)/file", as: "bob", body: [1]), 404)
        }
    }
}
