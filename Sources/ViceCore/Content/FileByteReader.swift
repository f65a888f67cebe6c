import Foundation

/// `pread` over an open file.
public final class FileByteReader: ByteReader, @unchecked Sendable {
    let descriptor: Int32
    public let size: Int64

    public init(path: String) throws {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ViceError.notFound("cannot open \(path): \(String(cString: strerror(errno)))") }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            _ = Foundation.close(descriptor)
            throw ViceError(.internal, "cannot stat \(path)")
        }
        size = Int64(info.st_size)
    }

    deinit { _ = Foundation.close(descriptor) }

    public func read(at offset: Int64, count: Int) throws -> [UInt8] {
        guard offset < size, count > 0 else { return [] }
        let wanted = Int(min(Int64(count), size - offset))
        var buffer = [UInt8](repeating: 0, count: wanted)
        var filled = 0
        while filled < wanted {
            let n = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress! + filled, wanted - filled, off_t(offset) + off_t(filled)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ViceError(.internal, "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            filled += n
        }
        return Array(buffer.prefix(filled))
    }
}
