import Foundation
import ViceCore

#if canImport(Glibc)
import Glibc
#endif

extension FileBlobStore {
    var stagingDirectory: URL { root.appendingPathComponent("staging", isDirectory: true) }

    public func makeStagingFile(for imageID: String) throws -> URL {
        try FileManager.default.createDirectory(at: stagingDirectory, withIntermediateDirectories: true)
        return stagingDirectory.appendingPathComponent("\(imageID)-\(UUID().uuidString).part")
    }

    public func openStaged(_ file: URL) async throws -> any ByteReader {
        try await BlockingIO.run { try FileByteReader(path: file.path) }
    }

    public func commitStaged(_ file: URL, digest: String) async throws -> BlobRef {
        let final = try path(of: digest)
        return try await BlockingIO.run {
            let fm = FileManager.default
            try fm.createDirectory(at: final.deletingLastPathComponent(), withIntermediateDirectories: true)
            if fm.fileExists(atPath: final.path) {
                // Identical content is stored once (or a crash hit between rename and record).
                try? fm.removeItem(at: file)
            } else {
                guard rename(file.path, final.path) == 0 else {
                    throw ViceError(.internal, "cannot move \(file.lastPathComponent) into the store: \(String(cString: strerror(errno)))")
                }
                try FileDescriptor.syncDirectory(final.deletingLastPathComponent().path)
            }
            let size = (try fm.attributesOfItem(atPath: final.path)[.size] as? NSNumber)?.int64Value ?? 0
            return BlobRef(digest: digest, size: size)
        }
    }

    public func removeStaged(_ file: URL) async {
        _ = try? await BlockingIO.run { try? FileManager.default.removeItem(at: file) }
    }

    public func stagedFiles() throws -> [URL] {
        guard FileManager.default.fileExists(atPath: stagingDirectory.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: stagingDirectory.path)
            .map { stagingDirectory.appendingPathComponent($0) }
    }

    public func localFile(of digest: String) throws -> URL? {
        try path(of: digest)
    }
}
