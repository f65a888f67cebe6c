import Foundation
import ViceCore

#if canImport(Glibc)
import Glibc
#endif

/// A POSIX file descriptor that closes itself when dropped. Every call blocks: use it only from
/// `BlockingIO`.
final class FileDescriptor: @unchecked Sendable {
    private let lock = NSLock()
    private var fd: Int32

    private init(_ fd: Int32) { self.fd = fd }

    deinit { close() }

    static func create(_ path: String) throws -> FileDescriptor {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ViceError(.internal, "cannot create \(path): \(String(cString: strerror(errno)))") }
        return FileDescriptor(fd)
    }

    static func openForReading(_ path: String) -> FileDescriptor? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        return fd >= 0 ? FileDescriptor(fd) : nil
    }

    static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { _ = Glibc.close(fd) }
        _ = fsync(fd)
    }

    private var current: Int32 {
        lock.lock()
        defer { lock.unlock() }
        return fd
    }

    func write(_ bytes: [UInt8]) throws {
        let descriptor = current
        try bytes.withUnsafeBytes { try writeFully(descriptor, $0) }
    }

    func read(upTo count: Int) throws -> [UInt8] {
        let fd = current
        guard fd >= 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ViceError(.internal, "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            filled += n
        }
        buffer.removeSubrange(filled...)
        return buffer
    }

    func seek(to offset: Int64) throws {
        guard lseek(current, off_t(offset), SEEK_SET) == off_t(offset) else {
            throw ViceError(.internal, "seek failed: \(String(cString: strerror(errno)))")
        }
    }

    func sync() throws {
        guard fsync(current) == 0 else { throw ViceError(.internal, "fsync failed: \(String(cString: strerror(errno)))") }
    }

    func close() {
        lock.lock()
        defer { lock.unlock() }
        if fd >= 0 {
            _ = Glibc.close(fd)
            fd = -1
        }
    }
}
