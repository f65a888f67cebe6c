public import Foundation

extension ByteStream {
    /// The bytes of a local file in 1 MiB chunks, read on `BlockingIO` threads.
    public static func file(_ url: URL) throws -> ByteStream {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw SystemCallError("opening \(url.path)")
        }
        let box = ReadingHandle(handle)
        return ByteStream { try await BlockingIO.run { try box.next() } }
    }
}

/// Read by one consumer at a time; closed at the end.
private final class ReadingHandle: @unchecked Sendable {
    private let handle: FileHandle
    private var closed = false

    init(_ handle: FileHandle) { self.handle = handle }

    func next() throws -> [UInt8]? {
        guard !closed else { return nil }
        guard let data = try handle.read(upToCount: 1 << 20), !data.isEmpty else {
            closed = true
            try? handle.close()
            return nil
        }
        return [UInt8](data)
    }

    deinit { if !closed { try? handle.close() } }
}
