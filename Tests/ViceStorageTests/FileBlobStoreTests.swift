import Crypto
import Foundation
import Testing
import ViceCore
import ViceStorage
import ViceTestSupport

@Suite struct FileBlobStoreTests {
    let directory: TemporaryDirectory
    let store: FileBlobStore

    init() throws {
        directory = try TemporaryDirectory()
        store = try FileBlobStore(root: directory.url)
    }

    func digest(_ bytes: [UInt8]) -> String {
        "sha256:" + SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    @Test func storesBytesUnderTheirDigestAndReadsThemBack() async throws {
        let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let ref = try await store.put(ByteStream(bytes: bytes, chunkSize: 100_000))
        #expect(ref.size == Int64(bytes.count))
        #expect(ref.digest == digest(bytes))
        let hex = String(ref.digest.dropFirst(7))
        #expect(FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("blobs/sha256/\(hex.prefix(2))/\(hex)").path))
        let back = try await store.get(ref.digest).collect(upTo: 10_000_000)
        let same = back == bytes
        #expect(same)
    }

    @Test func identicalContentIsStoredOnce() async throws {
        let bytes = Array("same content".utf8)
        let first = try await store.put(ByteStream(bytes: bytes))
        let second = try await store.put(ByteStream(bytes: bytes))
        #expect(first == second)
        let files = FileManager.default.enumerator(atPath: directory.url.appendingPathComponent("blobs").path)!
            .compactMap { $0 as? String }.filter { $0.count > 10 }
        #expect(files.count == 1)
    }

    @Test func aFailingStreamLeavesNoBlobAndNoTemporaryFile() async throws {
        struct Broken: Error {}
        let sent = LockedBox(0)
        let stream = ByteStream {
            let n = sent.withLock { n -> Int in n += 1; return n }
            if n > 3 { throw Broken() }
            return [UInt8](repeating: 7, count: 1 << 20)
        }
        await #expect(throws: Broken.self) { try await store.put(stream) }
        let temporary = try FileManager.default.contentsOfDirectory(atPath: directory.url.appendingPathComponent("tmp").path)
        #expect(temporary.isEmpty)
        let blobs = FileManager.default.enumerator(atPath: directory.url.appendingPathComponent("blobs").path)!
            .compactMap { $0 as? String }.filter { $0.count > 10 }
        #expect(blobs.isEmpty)
    }

    @Test func deleteRemovesTheBlobAndUnknownDigestsAreNotFound() async throws {
        let ref = try await store.put(ByteStream(bytes: [1, 2, 3]))
        #expect(try await store.contains(ref.digest))
        try await store.delete(ref.digest)
        #expect(try await !store.contains(ref.digest))
        await #expect(throws: ViceError.self) { try await store.get(ref.digest) }
        await #expect(throws: ViceError.self) { try await store.get("sha256:../../etc/passwd") }
    }

    @Test func leftoverTemporaryFilesAreRemoved() throws {
        let leftover = directory.url.appendingPathComponent("tmp/crashed.part")
        #expect(FileManager.default.createFile(atPath: leftover.path, contents: Data([1, 2, 3])))
        #expect(try store.removeTemporaryFiles() == 1)
        #expect(!FileManager.default.fileExists(atPath: leftover.path))
    }
}
