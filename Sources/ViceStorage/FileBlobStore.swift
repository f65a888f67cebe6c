import Crypto
import Foundation
import ViceCore

#if canImport(Glibc)
import Glibc
#endif

/// Content-addressed blobs on the local file system: `blobs/sha256/ab/<hex>`. A put streams into
/// a temporary file while hashing, fsyncs it and renames it into place, so a crash never leaves a
/// partial blob under a digest. Identical content is stored once.
public final class FileBlobStore: BlobStore {
    public let root: URL
    private let chunkSize = 1 << 20

    public init(root: URL) throws {
        self.root = root
        for directory in [blobsDirectory, temporaryDirectory] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
    }

    var blobsDirectory: URL { root.appendingPathComponent("blobs/sha256", isDirectory: true) }
    var temporaryDirectory: URL { root.appendingPathComponent("tmp", isDirectory: true) }

    /// Removes temporary files left by a process that died mid-write.
    @discardableResult
    public func removeTemporaryFiles() throws -> Int {
        let names = try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory.path)
        for name in names {
            try? FileManager.default.removeItem(at: temporaryDirectory.appendingPathComponent(name))
        }
        return names.count
    }

    public func path(of digest: String) throws -> URL {
        let prefix = "sha256:"
        let hex = digest.hasPrefix(prefix) ? String(digest.dropFirst(prefix.count)) : ""
        guard hex.count == 64, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw ViceError.invalidInput("'\(digest)' is not a sha256 digest")
        }
        return blobsDirectory.appendingPathComponent(String(hex.prefix(2))).appendingPathComponent(hex)
    }

    public func put(_ content: ByteStream) async throws -> BlobRef {
        let temporary = temporaryDirectory.appendingPathComponent(UUID().uuidString + ".part")
        let file = try await BlockingIO.run { try FileDescriptor.create(temporary.path) }
        do {
            var hasher = SHA256()
            var size: Int64 = 0
            var buffer: [UInt8] = []
            buffer.reserveCapacity(chunkSize)
            // One block is written while the next one is read and hashed. A write in flight is
            // always awaited before the descriptor is closed, also on failure.
            var writing: Task<Void, any Error>?
            do {
                for try await chunk in content {
                    try Task.checkCancellation()
                    hasher.update(data: chunk)
                    size += Int64(chunk.count)
                    buffer += chunk
                    if buffer.count >= chunkSize {
                        let full = buffer
                        try await writing?.value
                        writing = Task { try await BlockingIO.run { try file.write(full) } }
                        buffer = []
                        buffer.reserveCapacity(chunkSize)
                    }
                }
                try await writing?.value
            } catch {
                _ = try? await writing?.value
                throw error
            }
            let rest = buffer
            try await BlockingIO.run {
                try file.write(rest)
                try file.sync()
                file.close()
            }
            let digest = "sha256:" + hasher.finalize().hexString
            let final = try path(of: digest)
            try await BlockingIO.run {
                let fm = FileManager.default
                try fm.createDirectory(at: final.deletingLastPathComponent(), withIntermediateDirectories: true)
                if fm.fileExists(atPath: final.path) {
                    try fm.removeItem(at: temporary)
                } else {
                    guard rename(temporary.path, final.path) == 0 else {
                        throw ViceError(.internal, "cannot move blob into place: \(String(cString: strerror(errno)))")
                    }
                    try FileDescriptor.syncDirectory(final.deletingLastPathComponent().path)
                }
            }
            return BlobRef(digest: digest, size: size)
        } catch {
            file.close()
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    public func get(_ digest: String) async throws -> ByteStream {
        let path = try path(of: digest).path
        let file = try await BlockingIO.run { () throws -> FileDescriptor in
            guard let file = FileDescriptor.openForReading(path) else {
                throw ViceError.notFound("blob \(digest) is not in the store")
            }
            return file
        }
        let chunkSize = self.chunkSize
        return ByteStream {
            let chunk = try await BlockingIO.run { try file.read(upTo: chunkSize) }
            if chunk.isEmpty {
                file.close()
                return nil
            }
            return chunk
        }
    }

    public func contains(_ digest: String) async throws -> Bool {
        FileManager.default.fileExists(atPath: try path(of: digest).path)
    }

    public func delete(_ digest: String) async throws {
        let path = try path(of: digest).path
        try await BlockingIO.run {
            if unlink(path) != 0 && errno != ENOENT {
                throw ViceError(.internal, "cannot delete blob \(digest): \(String(cString: strerror(errno)))")
            }
        }
    }
}
