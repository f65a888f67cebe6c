@testable import ViceCore
import Foundation
import Testing

// Fixtures are made with the real /usr/bin/qemu-img in a fresh temporary directory per test.

/// Reads a file with FileHandle + seek, like the product's readers.
struct FileReader: ByteReader {
    let path: String
    let size: Int64

    init(_ url: URL) throws {
        path = url.path
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        size = Int64(try handle.seekToEnd())
    }

    func read(at offset: Int64, count: Int) throws -> [UInt8] {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        return [UInt8](try handle.read(upToCount: count) ?? Data())
    }
}

/// In-memory reader, used only by the mutation test (hundreds of variants).
struct BytesReader: ByteReader {
    let bytes: [UInt8]
    var size: Int64 { Int64(bytes.count) }
    func read(at offset: Int64, count: Int) throws -> [UInt8] {
        guard offset >= 0, offset < size, count > 0 else { return [] }
        let start = Int(offset)
        return Array(bytes[start..<min(bytes.count, start + count)])
    }
}

struct QemuImgFailed: Error, CustomStringConvertible {
    let args: [String]
    var description: String { "qemu-img \(args.joined(separator: " ")) failed" }
}

/// A temporary directory, removed when the test ends.
final class Scratch {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("inspector-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    func url(_ name: String) -> URL { dir.appendingPathComponent(name) }

    /// `qemu-img create -q <args> <name> <size>` run inside the directory, so stored names are relative.
    /// LUKS key-slot creation benchmarks PBKDF2 and fails now and then on a busy machine
    /// ("Unable to get accurate CPU usage"), hence the retries.
    @discardableResult
    func create(_ name: String, _ args: [String], size: String = "10M", attempts: Int = 8) async throws -> FileReader {
        let all = ["create", "-q"] + args + [name, size]
        let dir = self.dir
        // On a thread of its own: a test waiting for qemu-img must not hold one of the two
        // threads every other test's tasks run on.
        let created = try await BlockingIO.run { () throws -> Bool in
            for _ in 0..<attempts {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-img")
                process.arguments = all
                process.currentDirectoryURL = dir
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                process.waitUntilExit()
                if process.terminationStatus == 0 { return true }
            }
            return false
        }
        guard created else { throw QemuImgFailed(args: all) }
        return try FileReader(url(name))
    }

    func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(name))) }

    func write(_ name: String, _ bytes: [UInt8]) throws -> FileReader {
        try Data(bytes).write(to: url(name))
        return try FileReader(url(name))
    }
}

/// Expects a Refusal and returns its message.
@discardableResult
func refusal(_ reader: any ByteReader, as declared: ContentType, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    let error = #expect(throws: DiskInspector.Refusal.self, sourceLocation: sourceLocation) {
        try DiskInspector.inspect(reader, declared: declared)
    }
    return error?.description ?? ""
}

func put(_ value: UInt64, width: Int, at offset: Int, in bytes: inout [UInt8], bigEndian: Bool) {
    for i in 0..<width {
        let shift = UInt64(bigEndian ? width - 1 - i : i) * 8
        bytes[offset + i] = UInt8(truncatingIfNeeded: value >> shift)
    }
}

let tenMiB: Int64 = 10 << 20

// MARK: - qcow2

/// The inspector on images qemu-img makes, and on headers patched to be hostile.
@Suite struct DiskInspectorTests {
    @Test func plainQcow2V2AndV3Pass() async throws {
        let s = try Scratch()
        let v2 = try await s.create("v2.qcow2", ["-f", "qcow2", "-o", "compat=0.10"])
        let v3 = try await s.create("v3.qcow2", ["-f", "qcow2"], size: "3G")
        #expect(try s.bytes("v2.qcow2")[7] == 2)
        #expect(try DiskInspector.inspect(v2, declared: .diskQcow2) == DiskReport(format: .qcow2, virtualSize: tenMiB))
        #expect(try DiskInspector.inspect(v3, declared: .diskQcow2) == DiskReport(format: .qcow2, virtualSize: 3 << 30))
    }

    @Test func qcow2WithBackingFileIsRefused() async throws {
        let s = try Scratch()
        try await s.create("base.raw", ["-f", "raw"], size: "1M")
        let image = try await s.create("child.qcow2", ["-f", "qcow2", "-b", "base.raw", "-F", "raw"])
        let message = refusal(image, as: .diskQcow2)
        #expect(message.contains("backing file ('base.raw')"))
    }

    @Test func backingFileNameIsBoundedAndPrintable() async throws {
        let s = try Scratch()
        try await s.create("plain.qcow2", ["-f", "qcow2"])
        var bytes = try s.bytes("plain.qcow2")
        let name: [UInt8] = [0x01] + Array(repeating: 0x41, count: 300)
        bytes.replaceSubrange(0x1000..<(0x1000 + name.count), with: name)
        put(0x1000, width: 8, at: 0x08, in: &bytes, bigEndian: true)
        put(UInt64(name.count), width: 4, at: 0x10, in: &bytes, bigEndian: true)
        let message = refusal(try s.write("long.qcow2", bytes), as: .diskQcow2)
        #expect(message.contains("'?" + String(repeating: "A", count: 99) + "…'"))
        #expect(!message.contains(String(repeating: "A", count: 100)))
    }

    @Test func qcow2WithExternalDataFileIsRefused() async throws {
        let s = try Scratch()
        let image = try await s.create("df.qcow2", ["-f", "qcow2", "-o", "data_file=df.raw"])
        let message = refusal(image, as: .diskQcow2)
        #expect(message.contains("external data file ('df.raw')"))
    }

    @Test func luksEncryptedQcow2IsRefused() async throws {
        let s = try Scratch()
        let image = try await s.create("enc.qcow2", ["-f", "qcow2", "--object", "secret,id=s0,data=abc",
                                               "-o", "encrypt.format=luks,encrypt.key-secret=s0,encrypt.iter-time=10"], size: "1M")
        #expect(refusal(image, as: .diskQcow2).contains("encrypted (LUKS)"))
    }

    /// Decision: extended L2 (incompatible bit 4) and zstd (bit 3) are known to QEMU 7.2 and accepted,
    /// unlike oslo, which refuses bit 4 as unknown.
    @Test func extendedL2AndZstdAreAccepted() async throws {
        let s = try Scratch()
        let l2 = try await s.create("l2.qcow2", ["-f", "qcow2", "-o", "extended_l2=on"])
        let zstd = try await s.create("z.qcow2", ["-f", "qcow2", "-o", "compression_type=zstd"])
        #expect(try s.bytes("l2.qcow2")[0x4F] == 0x10)
        #expect(try s.bytes("z.qcow2")[0x4F] == 0x08)
        #expect(try DiskInspector.inspect(l2, declared: .diskQcow2).virtualSize == tenMiB)
        #expect(try DiskInspector.inspect(zstd, declared: .diskQcow2).virtualSize == tenMiB)
    }

    /// Header patches on a plain v3 image: (offset, bytes written, expected words in the refusal).
    static let qcow2Patches: [(Int, [UInt8], String)] = [
        (0x4F, [0x20], "unknown incompatible features (bit 5)"),
        (0x48, [0x80], "unknown incompatible features (bit 63)"),
        (0x4F, [0x02], "marked corrupt"),
        (0x04, [0, 0, 0, 4], "version 4"),
        (0x14, [0, 0, 0, 22], "cluster_bits 22"),
        (0x14, [0, 0, 0, 8], "cluster_bits 8"),
        (0x64, [0, 0, 0, 0x6C], "header_length 108"),
        (0x64, [0, 0, 0, 0x60], "header_length 96"),
        (0x74, [0, 0xFF, 0xFF, 0xF8], "runs past the first cluster"),
        (0x68, [0x01], "compression_type 1"),
        (0x20, [0, 0, 0, 1], "encrypted (AES)"),
    ]

    @Test(arguments: qcow2Patches)
    func patchedQcow2IsRefused(offset: Int, patch: [UInt8], expected: String) async throws {
        let s = try Scratch()
        try await s.create("v3.qcow2", ["-f", "qcow2"])
        var bytes = try s.bytes("v3.qcow2")
        #expect(try DiskInspector.inspect(BytesReader(bytes: bytes), declared: .diskQcow2).virtualSize == tenMiB)
        bytes.replaceSubrange(offset..<(offset + patch.count), with: patch)
        let message = refusal(try s.write("patched.qcow2", bytes), as: .diskQcow2)
        #expect(message.contains(expected), "\(message)")
    }

    @Test func qcowVersion1IsRefused() async throws {
        let s = try Scratch()
        let image = try await s.create("v1.qcow", ["-f", "qcow"])
        #expect(try DiskInspector.detect(image) == .qcowV1)
        #expect(refusal(image, as: .diskQcow2).contains("qcow version 1 image"))
        #expect(refusal(image, as: .diskRaw).contains("qcow version 1 image"))
    }

    @Test func truncatedQcow2HeadIsRefused() async throws {
        let s = try Scratch()
        try await s.create("v3.qcow2", ["-f", "qcow2"])
        let head = try s.write("head.qcow2", Array(try s.bytes("v3.qcow2").prefix(100)))
        #expect(refusal(head, as: .diskQcow2).contains("truncated (100 bytes"))
        let tiny = try s.write("tiny.qcow2", Array(try s.bytes("v3.qcow2").prefix(40)))
        #expect(refusal(tiny, as: .diskQcow2).contains("truncated (40 bytes"))
    }

    // MARK: - VMDK

    @Test(arguments: ["monolithicSparse", "streamOptimized"])
    func singleFileVMDKPasses(subformat: String) async throws {
        let s = try Scratch()
        let image = try await s.create("disk.vmdk", ["-f", "vmdk", "-o", "subformat=\(subformat)"])
        #expect(try DiskInspector.inspect(image, declared: .diskVmdk) == DiskReport(format: .vmdk, virtualSize: tenMiB))
        #expect(refusal(image, as: .diskRaw).contains("declared disk-raw but the bytes are a VMDK image"))
    }

    @Test(arguments: ["monolithicFlat", "twoGbMaxExtentSparse"])
    func multiFileVMDKIsRefused(subformat: String) async throws {
        let s = try Scratch()
        let descriptor = try await s.create("disk.vmdk", ["-f", "vmdk", "-o", "subformat=\(subformat)"])
        #expect(refusal(descriptor, as: .diskVmdk).contains("text descriptor file"))
        #expect(refusal(descriptor, as: .diskRaw).contains("VMDK"))
        if subformat == "twoGbMaxExtentSparse" {   // the extent alone is only a piece of the disk
            #expect(refusal(try FileReader(s.url("disk-s001.vmdk")), as: .diskVmdk).contains("descriptor is empty"))
        }
    }

    @Test func handWrittenDescriptorIsRefused() async throws {
        let s = try Scratch()
        let text = "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\nRW 2048 FLAT \"/etc/hostname\" 0\n"
        let file = try s.write("evil.vmdk", Array(text.utf8))
        #expect(try DiskInspector.detect(file) == .vmdk)
        #expect(refusal(file, as: .diskVmdk).contains("text descriptor file"))
        #expect(refusal(file, as: .diskRaw).contains("VMDK"))
        // QEMU would not probe this one (blank lines first), but `-f vmdk` parses it; still not raw.
        #expect(refusal(try s.write("blank.vmdk", Array(("\n\n" + text).utf8)), as: .diskRaw).contains("VMDK"))
    }

    /// Rewrites the embedded descriptor of a monolithicSparse image: (descriptor lines, expected words;
    /// empty = must pass). The first case is the control: a rewrite that must still be accepted.
    static let descriptorCases: [([String], String)] = [
        (["createType=\"monolithicSparse\"", "RW 20480 SPARSE \"disk.vmdk\""], ""),
        (["createType=\"monolithicSparse\"", "parentFileNameHint=\"/etc/parent.vmdk\"", "RW 20480 SPARSE \"disk.vmdk\""], "parent disk ('/etc/parent.vmdk')"),
        (["# parentFileNameHint=\"hidden.vmdk\"", "createType=\"monolithicSparse\"", "RW 20480 SPARSE \"disk.vmdk\""], "parent disk ('hidden.vmdk')"),
        (["createType=\"monolithicSparse\"", "RW 20480 FLAT \"/dev/sda\" 0"], "'FLAT' extent naming '/dev/sda'"),
        (["createType=\"monolithicSparse\"", "RW 20480 VMFS \"x.vmdk\""], "'VMFS' extent"),
        (["createType=\"monolithicSparse\"", "RW 10240 SPARSE \"disk.vmdk\"", "RW 10240 SPARSE \"disk2.vmdk\""], "lists 2 extents"),
        (["createType=\"monolithicSparse\""], "lists 0 extents"),
        (["createType=\"monolithicSparse\"", "RW 20480 SPARSE \"../other.vmdk\""], "names the path '../other.vmdk'"),
        (["createType=\"monolithicFlat\"", "RW 20480 SPARSE \"disk.vmdk\""], "createType 'monolithicFlat'"),
        (["RW 20480 SPARSE \"disk.vmdk\""], "createType none"),
        (["parentCID=1a2b3c4d", "createType=\"monolithicSparse\"", "RW 20480 SPARSE \"disk.vmdk\""], "parentCID='1a2b3c4d'"),
        (["createType=\"monolithicSparse\"", "RW 20480 SPARSE \"disk.vmdk\"", "include other.vmdk"], "unexpected line 'include other.vmdk'"),
    ]

    @Test(arguments: descriptorCases)
    func embeddedDescriptorRules(lines: [String], expected: String) async throws {
        let s = try Scratch()
        try await s.create("disk.vmdk", ["-f", "vmdk"])
        var bytes = try s.bytes("disk.vmdk")
        let text = Array((["# Disk DescriptorFile", "version=1", "CID=d70e207c"] + lines + ["ddb.adapterType = \"ide\""]).joined(separator: "\n").utf8)
        #expect(text.count < 20 * 512)
        bytes.replaceSubrange(512..<(512 + 20 * 512), with: text + Array(repeating: 0, count: 20 * 512 - text.count))
        let image = try s.write("patched.vmdk", bytes)
        if expected.isEmpty {
            #expect(try DiskInspector.inspect(image, declared: .diskVmdk).virtualSize == tenMiB)
        } else {
            let message = refusal(image, as: .diskVmdk)
            #expect(message.contains(expected), "\(message)")
        }
    }

    @Test func vmdkHeaderPatchesAreRefused() async throws {
        let s = try Scratch()
        try await s.create("disk.vmdk", ["-f", "vmdk"])
        let original = try s.bytes("disk.vmdk")
        var cowd = original
        cowd.replaceSubrange(0..<4, with: Array("COWD".utf8))
        #expect(refusal(try s.write("cowd.vmdk", cowd), as: .diskVmdk).contains("COWD"))
        var empty = original
        put(0, width: 8, at: 12, in: &empty, bigEndian: false)
        #expect(refusal(try s.write("cap0.vmdk", empty), as: .diskVmdk).contains("capacity 0 and an embedded descriptor"))
        var far = original
        put(UInt64.max, width: 8, at: 28, in: &far, bigEndian: false)
        #expect(refusal(try s.write("far.vmdk", far), as: .diskVmdk).contains("past the end"))
        var v4 = original
        v4[4] = 4
        #expect(refusal(try s.write("v4.vmdk", v4), as: .diskVmdk).contains("version 4"))
        #expect(refusal(try s.write("short.vmdk", Array(original.prefix(300))), as: .diskVmdk).contains("truncated"))
    }

    /// gdOffset = all ones: the header copy in the footer (last 3 sectors) is the one QEMU uses.
    @Test func streamOptimizedFooterIsUsed() async throws {
        let s = try Scratch()
        try await s.create("so.vmdk", ["-f", "vmdk", "-o", "subformat=streamOptimized"])
        var bytes = try s.bytes("so.vmdk")
        var copy = Array(bytes[0..<512])
        put(0x8000, width: 8, at: 12, in: &copy, bigEndian: false)      // footer capacity: 16 MiB
        put(UInt64.max, width: 8, at: 56, in: &bytes, bigEndian: false)
        var marker = [UInt8](repeating: 0, count: 512)
        marker[12] = 3
        let withoutFooter = bytes
        bytes += marker + copy + [UInt8](repeating: 0, count: 512)
        #expect(try DiskInspector.inspect(try s.write("f.vmdk", bytes), declared: .diskVmdk).virtualSize == 16 << 20)
        #expect(refusal(try s.write("nof.vmdk", withoutFooter), as: .diskVmdk).contains("footer is missing or malformed"))
    }

    // MARK: - Declared type vs. content

    @Test func declaredRawMustBeRaw() async throws {
        let s = try Scratch()
        let qcow2 = try await s.create("disk.img", ["-f", "qcow2"])
        #expect(refusal(qcow2, as: .diskRaw) == "declared disk-raw but the bytes are a qcow2 image")
        var random = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255) }
        random[0] = 0     // no magic can start with NUL, so the random bytes are surely raw
        random[257] = 0
        let raw = try s.write("random.raw", random)
        #expect(try DiskInspector.inspect(raw, declared: .diskRaw) == DiskReport(format: .raw, virtualSize: 1 << 20))
        #expect(refusal(raw, as: .diskQcow2) == "declared disk-qcow2 but the bytes are a raw disk")
        #expect(refusal(raw, as: .diskVmdk) == "declared disk-vmdk but the bytes are a raw disk")
        #expect(refusal(raw, as: .dockerFile).contains("not a disk type"))
        // The real bytes of `gzip < /dev/null`.
        let gzip = try s.write("x.gz", [0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(refusal(gzip, as: .diskRaw).contains("the bytes are gzip-compressed data"))
    }

    static let otherDrivers: [(String, [String], DiskFormat)] = [("qed", [], .qed), ("vpc", [], .vhd), ("vpc", ["-o", "subformat=fixed"], .vhd), ("vdi", [], .vdi)]

    @Test(arguments: otherDrivers)
    func otherDiskFormatsDeclaredRawAreRefused(driver: String, options: [String], format: DiskFormat) async throws {
        let s = try Scratch()
        let image = try await s.create("disk.img", ["-f", driver] + options)
        #expect(try DiskInspector.detect(image) == format)
        #expect(refusal(image, as: .diskRaw).contains("the bytes are \(format.phrase); only raw, qcow2"))
    }

    static let magics: [([UInt8], Int, DiskFormat)] = [
        ([0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00], 0, .xz), ([0x28, 0xB5, 0x2F, 0xFD], 0, .zstd),
        ([0x50, 0x2A, 0x4D, 0x18], 0, .zstd), (Array("BZh9".utf8), 0, .bzip2), ([0x04, 0x22, 0x4D, 0x18], 0, .lz4),
        ([0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C], 0, .sevenZip), (Array("PK\u{3}\u{4}".utf8), 0, .zip),
        (Array("ustar\0".utf8), 257, .tar), (Array("ustar  \0".utf8), 257, .tar),
        (Array("LUKS".utf8) + [0xBA, 0xBE, 0, 2], 0, .luks), (Array("vhdxfile".utf8), 0, .vhdx),
        (Array("WithoutFreeSpace".utf8), 0, .parallels),
    ]

    @Test(arguments: magics)
    func magicNumbersAreDetected(magic: [UInt8], offset: Int, format: DiskFormat) async throws {
        var bytes = [UInt8](repeating: 0, count: 4096)
        bytes.replaceSubrange(offset..<(offset + magic.count), with: magic)
        let s = try Scratch()
        let file = try s.write("x.bin", bytes)
        #expect(try DiskInspector.detect(file) == format)
        #expect(refusal(file, as: .diskRaw).contains("the bytes are \(format.phrase)"))
    }

    @Test func isoIsARawDiskButNotAHidingPlace() async throws {
        let s = try Scratch()
        var iso = [UInt8](repeating: 0, count: 0x9000)
        iso.replaceSubrange(0x8000..<0x8006, with: [1] + Array("CD001".utf8))
        let file = try s.write("cd.iso", iso)
        #expect(try DiskInspector.inspect(file, declared: .diskRaw) == DiskReport(format: .iso, virtualSize: 0x9000))
        #expect(refusal(file, as: .diskQcow2).contains("an ISO 9660 image"))
        // A qcow2 header in the ISO system area is what qemu would probe, so it wins.
        try await s.create("v3.qcow2", ["-f", "qcow2"])
        var polyglot = try s.bytes("v3.qcow2")
        polyglot.replaceSubrange(0x8000..<0x8006, with: [1] + Array("CD001".utf8))
        #expect(refusal(try s.write("poly.iso", polyglot), as: .diskRaw).contains("qcow2 image"))
    }

    // MARK: - Robustness

    /// Every prefix length and every 8-byte run forced to 0x00 / 0xFF in the qcow2 and VMDK headers:
    /// the inspector must return a report or a Refusal, never trap or throw anything else.
    @Test func mutatedHeadersNeverTrap() async throws {
        let s = try Scratch()
        try await s.create("v3.qcow2", ["-f", "qcow2"], size: "1M")
        try await s.create("disk.vmdk", ["-f", "vmdk"], size: "1M")
        for (name, declared) in [("v3.qcow2", ContentType.diskQcow2), ("disk.vmdk", .diskVmdk)] {
            let original = try s.bytes(name)
            var variants = [0, 1, 3, 4, 8, 71, 72, 103, 104, 111, 112, 511, 512, 513, 1000, 4096].map { Array(original.prefix($0)) }
            for offset in 0..<0x80 {
                for fill: UInt8 in [0x00, 0xFF] {
                    var v = original
                    for i in offset..<min(offset + 8, v.count) { v[i] = fill }
                    variants.append(v)
                }
            }
            for v in variants {
                do { _ = try DiskInspector.inspect(BytesReader(bytes: v), declared: declared) }
                catch is DiskInspector.Refusal {}
                catch { Issue.record("unexpected error \(error)") }
            }
        }
    }
}
