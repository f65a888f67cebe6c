package import Foundation
package import ViceCore

#if canImport(Glibc)
import Glibc
#endif

/// Content-addressed blobs on the local file system: `blobs/sha256/ab/<hex>`. Bytes arrive through
/// an ingest (`FileIngest`): written to `staging/<id>.part` while hashing, fsynced and described
/// by `staging/<id>.sealed`, then renamed into place, so a crash never leaves a partial blob under
/// a digest. Identical content is stored once.
package final class FileBlobStore: BlobStore {
    package let root: URL
    let chunkSize = 1 << 20
    /// Commits hold their digest here until the caller has recorded it; deletes skip held digests.
    let leases: any BlobLeaseKeeper

    package init(root: URL, leases: any BlobLeaseKeeper = LocalBlobLeaseKeeper()) throws {
        self.root = root
        self.leases = leases
        for directory in [blobsDirectory, stagingDirectory, temporaryDirectory] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
    }

    var blobsDirectory: URL { root.appendingPathComponent("blobs/sha256", isDirectory: true) }
    var stagingDirectory: URL { root.appendingPathComponent("staging", isDirectory: true) }
    /// Scratch files of the process (conversions), removed at start-up.
    var temporaryDirectory: URL { root.appendingPathComponent("tmp", isDirectory: true) }

    /// Removes scratch files left by a process that died mid-write.
    @discardableResult
    package func removeTemporaryFiles() throws -> Int {
        guard FileManager.default.fileExists(atPath: temporaryDirectory.path) else { return 0 }
        let names = try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory.path)
        for name in names {
            try? FileManager.default.removeItem(at: temporaryDirectory.appendingPathComponent(name))
        }
        return names.count
    }

    package func path(of digest: String) throws -> URL {
        let prefix = "sha256:"
        let hex = digest.hasPrefix(prefix) ? String(digest.dropFirst(prefix.count)) : ""
        guard hex.count == 64, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw ViceError.invalidInput("'\(digest)' is not a sha256 digest")
        }
        return blobsDirectory.appendingPathComponent(String(hex.prefix(2))).appendingPathComponent(hex)
    }

    package func get(_ digest: String) async throws -> ByteStream {
        try await read(digest, from: 0, through: nil)
    }

    package func get(_ digest: String, range: ClosedRange<Int64>) async throws -> ByteStream {
        try await read(digest, from: range.lowerBound, through: range.upperBound)
    }

    /// The blob's bytes from `start` to `end` (inclusive; nil: to the end of the file).
    private func read(_ digest: String, from start: Int64, through end: Int64?) async throws -> ByteStream {
        let path = try path(of: digest).path
        let file = try await BlockingIO.run { () throws -> FileDescriptor in
            guard let file = FileDescriptor.openForReading(path) else {
                throw ViceError.notFound("blob \(digest) is not in the store")
            }
            if start > 0 { try file.seek(to: start) }
            return file
        }
        let chunkSize = self.chunkSize
        let position = LockedBox(start)
        return ByteStream {
            let offset = position.withLock { $0 }
            let wanted = end.map { min(Int64(chunkSize), $0 + 1 - offset) } ?? Int64(chunkSize)
            let chunk = wanted > 0 ? try await BlockingIO.run { try file.read(upTo: Int(wanted)) } : []
            if chunk.isEmpty {
                file.close()
                return nil
            }
            position.withLock { $0 += Int64(chunk.count) }
            return chunk
        }
    }

    package func contains(_ digest: String) async throws -> Bool {
        FileManager.default.fileExists(atPath: try path(of: digest).path)
    }

    @discardableResult
    package func delete(_ digest: String, ifUnused isUnused: @escaping @Sendable () async throws -> Bool) async throws -> Bool {
        let path = try path(of: digest).path
        // The removal (an unlink can take a while for a large file) runs off the cooperative pool.
        return try await leases.delete(digest, ifUnused: isUnused) {
            try await BlockingIO.run {
                if unlink(path) != 0 && errno != ENOENT {
                    throw ViceError(.internal, "cannot delete blob \(digest): \(String(cString: strerror(errno)))")
                }
            }
        }
    }

    package func digests() async throws -> [String] {
        let directory = blobsDirectory
        return try await BlockingIO.run {
            let fm = FileManager.default
            return try fm.contentsOfDirectory(atPath: directory.path).flatMap { prefix in
                ((try? fm.contentsOfDirectory(atPath: directory.appendingPathComponent(prefix).path)) ?? [])
                    .filter { $0.count == 64 && $0.hasPrefix(prefix) }
                    .map { "sha256:" + $0 }
            }.sorted()
        }
    }

    package func localFile(of digest: String) throws -> URL? {
        try path(of: digest)
    }

    package func usage() async throws -> BlobUsage {
        let digests = try await digests()
        let paths = try digests.map { try path(of: $0) }
        return try await BlockingIO.run {
            var bytes: Int64 = 0
            for path in paths {
                bytes += ((try? FileManager.default.attributesOfItem(atPath: path.path)[.size]) as? NSNumber)?.int64Value ?? 0
            }
            return BlobUsage(blobs: digests.count, bytes: bytes)
        }
    }
}
