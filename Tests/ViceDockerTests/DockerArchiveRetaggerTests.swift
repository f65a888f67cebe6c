@testable import ViceDocker
import ViceCore
import Foundation
import Testing

/// The retagger on real archives (GNU tar, Python's tarfile) and on hand-made hostile ones.
@Suite struct DockerArchiveRetaggerTests {
    static let tag = "vice/retagged:1"
    static let manifest = #"[{"Config":"blobs/sha256/config","RepoTags":["postgres:16"],"repotagſ":["postgres:15"],"Layers":["blobs/sha256/layer"]},{"Config":"blobs/sha256/config","RepoTags":["redis:7"],"Layers":[]}]"#
    static let index = #"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:abc","size":1,"annotations":{"io.containerd.image.name":"docker.io/library/postgres:16","org.opencontainers.image.ref.name":"16","keep":"yes"}}]}"#

    // MARK: real archives

    @Test(arguments: [7, 1000, 64 * 1024])
    func gnuTarArchivesAreRetaggedAndOtherwiseIntact(chunk: Int) async throws {
        let fixture = try Fixture()
        // `-C src .` names entries ./manifest.json…; the explicit list names them manifest.json….
        for listing in [["."], ["manifest.json", "repositories", "index.json", "oci-layout", "blobs"]] {
            let archive = fixture.root.appendingPathComponent("archive.tar")
            try run("/usr/bin/tar", ["-cf", archive.path, "-C", fixture.source.path] + listing)
            let output = try await retag(try bytes(archive), chunk: chunk)
            try fixture.verify(output, against: archive)
        }
    }

    @Test func paxArchivesWithLongNamesPassThrough() async throws {
        let fixture = try Fixture()
        let longName = "blobs/" + String(repeating: "l", count: 120)
        try FileManager.default.copyItem(at: fixture.source.appendingPathComponent("blobs/sha256/layer"),
                                         to: fixture.source.appendingPathComponent(longName))
        let archive = fixture.root.appendingPathComponent("pax.tar")
        try run("/usr/bin/env", ["python3", "-c", """
            import sys, tarfile
            with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
                for name in ["manifest.json", "repositories", "index.json", "blobs/sha256/layer", "blobs/sha256/config", sys.argv[3]]:
                    t.add(sys.argv[2] + "/" + name, arcname=name)
            """, archive.path, fixture.source.path, longName])
        let input = try bytes(archive)
        let hasPathRecord = input.contains(subsequence: Array("path=\(longName)".utf8))
        #expect(hasPathRecord, "the fixture has a PAX path record")
        let output = try await retag(input, chunk: 1000)
        try fixture.verify(output, against: archive)
        let longNamedIntact = try fixture.extracted(longName) == fixture.blob
        #expect(longNamedIntact)
    }

    @Test func anArchiveWithoutManifestIsRefused() async throws {
        let fixture = try Fixture()
        let archive = fixture.root.appendingPathComponent("archive.tar")
        try run("/usr/bin/tar", ["-cf", archive.path, "-C", fixture.source.path, "repositories", "blobs"])
        try await expectFailure(try bytes(archive), "the archive has no manifest.json")
    }

    @Test func damagedTruncatedAndCompressedArchivesAreRefused() async throws {
        let fixture = try Fixture()
        let archive = fixture.root.appendingPathComponent("archive.tar")
        try run("/usr/bin/tar", ["-cf", archive.path, "-C", fixture.source.path, "."])
        let input = try bytes(archive)
        var damaged = input
        damaged[512 + 3] ^= 0x01  // the second header ("./" is the first, without data)
        try await expectFailure(damaged, "bad checksum")
        try await expectFailure(Array(input[..<(input.count / 2)]), "truncated")
        try await expectFailure(Array(input[..<700]), "truncated")
        try run("/usr/bin/gzip", ["-k", archive.path])
        try await expectFailure(try bytes(archive.appendingPathExtension("gz")), "gzip")
    }

    @Test func theStreamIsPassedOnAsItComes() async throws {
        let fixture = try Fixture()
        let archive = fixture.root.appendingPathComponent("archive.tar")
        try run("/usr/bin/tar", ["-cf", archive.path, "-C", fixture.source.path, "."])
        let chunks = Chunks(try bytes(archive), size: 64 * 1024)
        var pulledAtFirstOutput: Int?
        var largest = 0
        for try await piece in DockerArchiveRetagger.retag(ByteStream { chunks.next() }, as: Self.tag) {
            pulledAtFirstOutput = pulledAtFirstOutput ?? chunks.pulled
            largest = max(largest, piece.count)
        }
        #expect(pulledAtFirstOutput == 1)
        #expect(largest <= 64 * 1024)
    }

    // MARK: hostile archives

    /// Each would leave a tag the registry did not choose if the retagger read it differently from the engine.
    @Test func renamedLinkedOrHiddenMetadataIsRefused() async throws {
        let hostile = Array(Self.manifest.utf8)
        let legit = entry("manifest.json", hostile) + [UInt8](repeating: 0, count: 1024)
        let baseline = try await retag(legit, chunk: 100)
        let baselineLeaks = baseline.contains(subsequence: Array("postgres".utf8))
        #expect(!baselineLeaks)

        let refused: [(String, [UInt8])] = [
            ("PAX path", entry("PaxHeader", Array(record("path", "./manifest.json").utf8), type: "x") + entry("innocent", hostile)),
            ("GNU long name", entry("././@LongLink", Array((String(repeating: "./", count: 60) + "manifest.json\0").utf8), type: "L")
                + entry("innocent", hostile)),
            ("PAX size", entry("PaxHeader", Array(record("size", "\(hostile.count)").utf8), type: "x") + entry("manifest.json", hostile)),
            ("global path", entry("GlobalHead", Array(record("path", "x").utf8), type: "g") + entry("x", hostile)),
            ("symlink", entry("manifest.json", type: "2", link: "other.json") + entry("other.json", hostile)),
            ("nested", entry("sub/manifest.json", hostile)),
            ("letter case", entry("Manifest.json", hostile)),
            ("ustar prefix", entry("manifest.json", hostile, prefix: "sub")),
            ("directory", entry("manifest.json/", type: "5")),
        ]
        for (what, archive) in refused {
            await #expect(throws: DockerArchiveRetagger.Failure.self, "\(what)") {
                _ = try await retag(archive + legit, chunk: 100)
            }
        }

        // The engine ignores a link's size and obeys a PAX size: a manifest behind either is still found.
        let hidden: [(String, [UInt8])] = [
            ("symlink with a size", entry("link", type: "2", size: 1024, link: "x") + entry("manifest.json", hostile)),
            ("PAX size 0", entry("PaxHeader", Array(record("size", "0").utf8), type: "x") + entry("blob", type: "0", size: 1024)
                + entry("manifest.json", hostile)),
        ]
        for (what, archive) in hidden {
            let output = try await retag(archive + legit, chunk: 100)
            let leaks = output.contains(subsequence: Array("postgres".utf8)), tags = output.count(of: Array(Self.tag.utf8))
            #expect(!leaks, "\(what)")
            #expect(tags == 2, "\(what)")
        }
    }

    // MARK: helpers

    func retag(_ input: [UInt8], chunk: Int) async throws -> [UInt8] {
        let chunks = Chunks(input, size: chunk)
        var output: [UInt8] = []
        for try await piece in DockerArchiveRetagger.retag(ByteStream { chunks.next() }, as: Self.tag) { output += piece }
        return output
    }

    func expectFailure(_ input: [UInt8], _ message: String) async throws {
        do {
            _ = try await retag(input, chunk: 1000)
            Issue.record("no failure; expected '\(message)'")
        } catch let failure as DockerArchiveRetagger.Failure {
            #expect(failure.description.contains(message), "\(failure)")
        }
    }

    /// A ustar entry: header, data, padding.
    func entry(_ name: String, _ data: [UInt8] = [], type: Character = "0", size: Int? = nil, link: String = "",
               prefix: String = "") -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, _ at: Int) { header.replaceSubrange(at..<at + text.utf8.count, with: text.utf8) }
        func octal(_ value: Int, _ width: Int) -> String {
            let digits = String(value, radix: 8)
            return String(repeating: "0", count: width - digits.count) + digits
        }
        put(name, 0); put("0000644", 100); put("0000000", 108); put("0000000", 116)
        put(octal(size ?? data.count, 11), 124); put(octal(0, 11), 136); put(String(type), 156); put(link, 157)
        put("ustar", 257); put("00", 263); put(prefix, 345)
        put("        ", 148)
        put(octal(header.reduce(0) { $0 + Int($1) }, 6) + "\0 ", 148)
        return header + data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    /// A PAX record, `"<length> key=value\n"`, its length counting itself.
    func record(_ key: String, _ value: String) -> String {
        let body = " \(key)=\(value)\n"
        var length = body.utf8.count + 1
        while String(length).count + body.utf8.count != length { length += 1 }
        return "\(length)\(body)"
    }
}

/// A temporary image directory: manifest.json, repositories, an OCI index and a random 1 MiB + 123 byte layer.
struct Fixture {
    let root: URL
    let source: URL
    let blob: [UInt8]

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("retag-\(UUID().uuidString)")
        source = root.appendingPathComponent("src")
        blob = (0..<(1 << 20) + 123).map { _ in UInt8.random(in: 0...255) }
        try FileManager.default.createDirectory(at: source.appendingPathComponent("blobs/sha256"), withIntermediateDirectories: true)
        let files = [
            "manifest.json": Array(DockerArchiveRetaggerTests.manifest.utf8),
            "repositories": Array(#"{"postgres":{"16":"abc"}}"#.utf8),
            "index.json": Array(DockerArchiveRetaggerTests.index.utf8),
            "oci-layout": Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8),
            "blobs/sha256/config": Array(#"{"architecture":"amd64","os":"linux"}"#.utf8),
            "blobs/sha256/layer": blob,
        ]
        for (name, content) in files { try Data(content).write(to: source.appendingPathComponent(name)) }
    }

    func extracted(_ name: String) throws -> [UInt8] { try bytes(root.appendingPathComponent("out/" + name)) }

    /// A valid tar with the input's entries, the layer intact and only the registry's tag left.
    func verify(_ output: [UInt8], against archive: URL) throws {
        let written = root.appendingPathComponent("output.tar")
        try Data(output).write(to: written)
        #expect(try run("/usr/bin/tar", ["-tf", written.path]) == (try run("/usr/bin/tar", ["-tf", archive.path])))
        try run("/usr/bin/tar", ["-tvf", written.path])
        let out = root.appendingPathComponent("out")
        try? FileManager.default.removeItem(at: out)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try run("/usr/bin/tar", ["-xf", written.path, "-C", out.path])
        let layerIntact = try extracted("blobs/sha256/layer") == blob
        let configIntact = try extracted("blobs/sha256/config") == bytes(source.appendingPathComponent("blobs/sha256/config"))
        #expect(layerIntact)
        #expect(configIntact)

        let images = try JSONSerialization.jsonObject(with: Data(try extracted("manifest.json"))) as? [[String: Any]] ?? []
        #expect(images.count == 2)
        #expect(images.first?["RepoTags"] as? [String] == [DockerArchiveRetaggerTests.tag])
        #expect(images.first?["Config"] as? String == "blobs/sha256/config")
        #expect(images.first?["Layers"] as? [String] == ["blobs/sha256/layer"])
        #expect(images.last?["RepoTags"] is NSNull)
        let repositories = try JSONSerialization.jsonObject(with: Data(try extracted("repositories"))) as? [String: Any]
        #expect(repositories?.isEmpty == true)
        let index = try JSONSerialization.jsonObject(with: Data(try extracted("index.json"))) as? [String: Any]
        let annotations = (index?["manifests"] as? [[String: Any]])?.first?["annotations"] as? [String: String]
        #expect(annotations == ["keep": "yes"])
        // No other spelling of RepoTags, no old tag anywhere (the layer is random bytes).
        let leaks = output.contains(subsequence: Array("postgres".utf8))
        #expect(!leaks)
    }
}

/// Hands out `bytes` in pieces of `size`, counting the pieces taken.
final class Chunks: @unchecked Sendable {
    private let bytes: [UInt8]
    private let size: Int
    private(set) var pulled = 0

    init(_ bytes: [UInt8], size: Int) {
        self.bytes = bytes
        self.size = size
    }

    func next() -> [UInt8]? {
        let start = pulled * size
        guard start < bytes.count else { return nil }
        pulled += 1
        return Array(bytes[start..<min(start + size, bytes.count)])
    }
}

func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

/// Runs a tool and returns its output (stdout and stderr); a non-zero exit throws.
@discardableResult
func run(_ tool: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw DockerArchiveRetagger.Failure(description: "\(tool) \(arguments.joined(separator: " ")): \(output)")
    }
    return output
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool { count(of: subsequence) > 0 }

    func count(of needle: [UInt8]) -> Int {
        guard !needle.isEmpty, needle.count <= count else { return 0 }
        var found = 0
        for start in 0...(count - needle.count) where self[start] == needle[0] && self[start..<start + needle.count].elementsEqual(needle) {
            found += 1
        }
        return found
    }
}
