import Crypto
import Foundation

extension Registry {
    /// The format to deploy `contenttype` as into an adapter described by `descriptor`: the
    /// image's own when the adapter takes it, else a disk format the converter can make (VMDK,
    /// then qcow2, then raw), else nil.
    func deployableType(of contenttype: ContentType, for descriptor: AdapterDescriptor) -> ContentType? {
        if descriptor.capabilities.canDeploy(contenttype) { return contenttype }
        guard let converter else { return nil }
        return [ContentType.diskVmdk, .diskQcow2, .diskRaw].first {
            descriptor.capabilities.canDeploy($0) && converter.canConvert(from: contenttype, to: $0)
        }
    }

    struct ConvertedDisk {
        var file: URL
        var size: Int64
        var digest: String
    }

    /// Converts the blob into a temporary file next to the adapters' scratch files; the caller
    /// deletes it. The stored blob is only read.
    func convert(_ digest: String, from: ContentType, to: ContentType) async throws -> ConvertedDisk {
        guard let converter else { throw ViceError(.internal, "no disk converter is configured") }
        let directory = catalog.temporaryDirectory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var input = try blobs.localFile(of: digest)
        var spooled: URL?
        defer { if let spooled { try? FileManager.default.removeItem(at: spooled) } }
        if input == nil {
            // A store without local files: the converter needs one.
            let file = directory.appendingPathComponent("convert-in-\(UUID().uuidString)")
            FileManager.default.createFile(atPath: file.path, contents: nil, attributes: [.posixPermissions: 0o600])
            let handle = try FileHandle(forWritingTo: file)
            for try await chunk in try await blobs.get(digest) { try handle.write(contentsOf: chunk) }
            try handle.close()
            spooled = file
            input = file
        }
        let output = directory.appendingPathComponent("convert-\(UUID().uuidString).\(to.rawValue)")
        do {
            logger.info("converting \(digest) from \(from.rawValue) to \(to.rawValue) for a deployment")
            try await converter.convert(input!, from: from, to: to, output: output)
            var hasher = SHA256()
            var size: Int64 = 0
            for try await chunk in try ByteStream.file(output) {
                hasher.update(data: chunk)
                size += Int64(chunk.count)
            }
            return ConvertedDisk(file: output, size: size,
                                 digest: "sha256:" + hasher.finalize().hexString)
        } catch {
            try? FileManager.default.removeItem(at: output)
            throw error
        }
    }
}
