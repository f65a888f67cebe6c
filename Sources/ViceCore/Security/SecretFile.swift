package import Foundation

/// Files that hold secrets (the credential key, a generated admin password, the database): created
/// 0600 in one step with `O_CREAT | O_EXCL | O_NOFOLLOW`, so there is no moment in which another
/// user could open them and no symbolic link planted in the way is followed. Their folders are
/// created 0700.
package enum SecretFile {
    /// Creates `path` with `contents`; fails when it exists (or is a link).
    package static func create(_ path: String, contents: Data) throws {
        try makePrivateDirectory(for: path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ViceError(.internal, "cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try contents.withUnsafeBytes { try writeFully(fd, $0) }
        guard fsync(fd) == 0 else { throw ViceError(.internal, "cannot sync \(path): \(String(cString: strerror(errno)))") }
    }

    /// Creates an empty `path` 0600 if it is not there yet (the SQLite file, before SQLite opens it).
    package static func createEmptyIfMissing(_ path: String) throws {
        try makePrivateDirectory(for: path)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        if fd >= 0 { close(fd); return }
        guard errno == EEXIST else { throw ViceError(.internal, "cannot create \(path): \(String(cString: strerror(errno)))") }
    }

    /// Reads a secret file, refusing one that other users may read or write, or a link.
    package static func read(_ path: String) throws -> Data {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw ViceError(.internal, "cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw ViceError(.internal, "\(path) is not a regular file")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw ViceError(.internal, "\(path) may be read or written by other users (mode \(String(info.st_mode & 0o777, radix: 8))); run 'chmod 600 \(path)' and start again")
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = Foundation.read(fd, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw ViceError(.internal, "cannot read \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
            guard data.count <= 1 << 20 else { throw ViceError(.internal, "\(path) is too large for a secret") }
        }
        return data
    }

    /// Creates the folder of `path` (and its parents) 0700 when missing.
    package static func makePrivateDirectory(for path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        guard !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
    }
}
