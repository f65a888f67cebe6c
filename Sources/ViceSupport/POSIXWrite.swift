import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes all of `bytes` to a file descriptor, retrying short writes and interrupted calls. Blocks:
/// call it from `BlockingIO` or a thread of your own.
public func writeFully(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) throws {
    var offset = 0
    while offset < bytes.count {
        let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 {
            if errno == EINTR { continue }
            throw SystemCallError("write")
        }
        offset += written
    }
}
