import Foundation
import Testing
import ViceCore
import ViceTestSupport

/// Bytes in memory as a `ByteReader`.
struct MemoryReader: ByteReader {
    let bytes: [UInt8]
    var size: Int64 { Int64(bytes.count) }
    func read(at offset: Int64, count: Int) throws -> [UInt8] {
        guard offset < size else { return [] }
        return Array(bytes[Int(offset)..<min(bytes.count, Int(offset) + count)])
    }
}

@Suite struct ContentInspectorTests {
    func matches(_ bytes: [UInt8], _ type: ContentType) -> Bool {
        (try? ContentInspector.check(MemoryReader(bytes: bytes), is: type)) != nil
    }

    /// Detection goes by the magic; the check also reads the header (DiskInspectorTests has the
    /// images qemu-img makes), so these bare headers are recognised but refused.
    @Test func diskFormatsAreRecognisedByTheirMagicAndBareHeadersRefused() {
        let qcow2: [UInt8] = [0x51, 0x46, 0x49, 0xFB, 0, 0, 0, 3] + [UInt8](repeating: 0, count: 100)
        let sparseVMDK: [UInt8] = Array("KDMV".utf8) + [1, 0, 0, 0] + [UInt8](repeating: 0, count: 100)
        let descriptorVMDK = Array("# Disk DescriptorFile\nversion=1\nRW 2048 VMFS \"disk-flat.vmdk\"\n".utf8)
        #expect(ContentInspector.detect(MemoryReader(bytes: qcow2)) == .diskQcow2)
        #expect(ContentInspector.detect(MemoryReader(bytes: sparseVMDK)) == .diskVmdk)
        #expect(ContentInspector.detect(MemoryReader(bytes: [0, 1, 2, 3, 255])) == .diskRaw)
        #expect(!matches(qcow2, .diskQcow2))          // cluster_bits 0
        #expect(!matches(sparseVMDK, .diskVmdk))      // a truncated sparse header
        #expect(!matches(descriptorVMDK, .diskVmdk))  // a descriptor that names another file
        #expect(!matches(sparseVMDK, .diskQcow2))
        #expect(!matches(qcow2, .diskVmdk))
        #expect(!matches(qcow2, .diskRaw))            // a qcow2 header declared raw
        #expect(matches([1, 2, 3], .diskRaw))
        #expect(matches([], .diskRaw))
    }

    @Test func dockerArchivesNeedManifestJSON() {
        let image = tarArchive([("blobs/sha256/abc", Array(repeating: 7, count: 700)), ("manifest.json", Array("[]".utf8)),
                                ("index.json", Array("{}".utf8))])
        #expect(matches(image, .dockerImage))
        #expect(ContentInspector.detect(MemoryReader(bytes: image)) == .dockerImage)
        let plainTar = tarArchive([("hello.txt", Array("hi".utf8))])
        #expect(!matches(plainTar, .dockerImage))
        var damaged = image
        damaged[130] ^= 0x01  // size field of the first header: the checksum no longer matches
        #expect(!matches(damaged, .dockerImage))
        #expect(!matches(Array("FROM alpine".utf8), .dockerImage))
    }

    @Test func dockerfilesStartWithFROM() {
        #expect(matches(Array("FROM debian:12\nRUN true\n".utf8), .dockerFile))
        #expect(matches(Array("# syntax=docker/dockerfile:1\n\nARG BASE=alpine\nfrom ${BASE}\n".utf8), .dockerFile))
        #expect(!matches(Array("RUN true\nFROM debian\n".utf8), .dockerFile))
        #expect(!matches(Array("# only a comment\n".utf8), .dockerFile))
        #expect(!matches([0x46, 0x52, 0x4F, 0x4D, 0x20, 0, 1], .dockerFile))  // binary
    }

    @Test func packerTemplatesAreJSONWithBuildersOrHCLWithSourceAndBuild() {
        #expect(matches(Array(#"{"builders": [{"type": "qemu"}], "provisioners": []}"#.utf8), .packerfile))
        #expect(!matches(Array(#"{"variables": {}}"#.utf8), .packerfile))
        let hcl = """
            source "qemu" "ubuntu" {
              iso_url = "ubuntu.iso"
            }
            build {
              sources = ["source.qemu.ubuntu"]
            }
            """
        #expect(matches(Array(hcl.utf8), .packerfile))
        #expect(!matches(Array("build {\n}\n".utf8), .packerfile))
        #expect(ContentInspector.detect(MemoryReader(bytes: Array(hcl.utf8))) == .packerfile)
    }
}
