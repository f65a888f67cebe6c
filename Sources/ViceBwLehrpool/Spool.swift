import Crypto
import Foundation
import ViceCore

/// The bytes to upload as a file (the satellite asks for ranges in any order and again after a
/// bad hash, so they must be at hand), with the size and the SHA-1 of every 16 MiB block that
/// `requestImageVersionUpload` wants up front. The store's own file when there is one, else a
/// temporary copy.
struct Spool {
    var file: URL
    var size: Int64
    var blockHashes: [[UInt8]]
    /// Whether `file` is a copy of ours, to delete after the upload.
    var isTemporary = true

    /// Reads the image's local file once for its hashes (no copy).
    static func hash(_ file: URL, expecting image: ImageDescription) async throws -> Spool {
        var spool = try await write(try ByteStream.file(file), into: nil, expecting: image)
        spool.file = file
        spool.isTemporary = false
        return spool
    }

    /// Copies `content` into a temporary file of `directory` while hashing it; with no directory
    /// it only hashes.
    static func write(_ content: ByteStream, into directory: URL?, expecting image: ImageDescription) async throws -> Spool {
        var file = URL(fileURLWithPath: "/dev/null")
        var box: HandleBox?
        if let directory {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            file = directory.appendingPathComponent("bwlp-upload-\(UUID().uuidString).part")
            guard FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600]),
                  let handle = FileHandle(forWritingAtPath: file.path) else {
                throw AdapterError(.remoteError, "cannot create a temporary file in \(directory.path)")
            }
            box = HandleBox(handle)
        }
        do {
            var hashes: [[UInt8]] = []
            var block = Insecure.SHA1()
            var inBlock = 0
            var sha256 = SHA256()
            var size: Int64 = 0
            for try await chunk in content {
                var rest = chunk[...]
                while !rest.isEmpty {
                    let take = min(rest.count, BlockTransfer.blockSize - inBlock)
                    let part = rest.prefix(take)
                    part.withUnsafeBytes { block.update(bufferPointer: $0) }
                    inBlock += take
                    if inBlock == BlockTransfer.blockSize {
                        hashes.append(Array(block.finalize()))
                        block = Insecure.SHA1()
                        inBlock = 0
                    }
                    rest = rest.dropFirst(take)
                }
                sha256.update(data: chunk)
                size += Int64(chunk.count)
                if let box { try await BlockingIO.run { try box.handle.write(contentsOf: chunk) } }
            }
            if inBlock > 0 { hashes.append(Array(block.finalize())) }
            if let box {
                try await BlockingIO.run {
                    try box.handle.synchronize()
                    try box.handle.close()
                }
            }
            let digest = "sha256:" + sha256.finalize().hexString
            guard digest == image.checksum, size == image.size else {
                throw AdapterError(.integrity, "the bytes given to deploy do not match image \(image.imageID) (\(size) bytes, \(digest))")
            }
            return Spool(file: file, size: size, blockHashes: hashes)
        } catch {
            if let box {
                try? box.handle.close()
                try? FileManager.default.removeItem(at: file)
            }
            throw error
        }
    }
}

private final class HandleBox: @unchecked Sendable {
    let handle: FileHandle
    init(_ handle: FileHandle) { self.handle = handle }
}

/// A VM description for images that come without one: a minimal VMware `.vmx` (or libvirt XML
/// for `qemukvm`) naming the disk the satellite stores.
enum MachineDescription {
    static func vmx(title: String, virtId: String) -> [UInt8] {
        let name = title.replacingOccurrences(of: "\"", with: "'")
        if virtId == "qemukvm" {
            return Array("""
                <domain type='kvm'><name>\(name.replacingOccurrences(of: "<", with: "("))</name><memory unit='MiB'>2048</memory>\
                <vcpu>2</vcpu><os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'>\
                <driver name='qemu' type='qcow2'/><source file='image'/><target dev='vda' bus='virtio'/></disk></devices></domain>
                """.utf8)
        }
        return Array("""
            .encoding = "UTF-8"
            config.version = "8"
            virtualHW.version = "10"
            displayName = "\(name)"
            guestOS = "other-64"
            memsize = "2048"
            numvcpus = "2"
            scsi0.present = "TRUE"
            scsi0.virtualDev = "lsilogic"
            scsi0:0.present = "TRUE"
            scsi0:0.fileName = "image.vmdk"
            ethernet0.present = "TRUE"
            ethernet0.virtualDev = "e1000"

            """.utf8)
    }
}
