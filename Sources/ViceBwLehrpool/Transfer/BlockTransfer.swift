import CLZ4
import Foundation

/// Constants and helpers of bwLehrpool's block transfer protocol (BFTP).
package enum BlockTransfer {
    /// Ranges and hashes go by 16 MiB blocks.
    package static let blockSize = 16 * 1024 * 1024
    /// An LZ4 frame holds at most this many decompressed bytes.
    static let maxFrame = 500_000
    /// The server waits this long for the mode byte, and this long between data afterwards.
    static let firstByteTimeout = Duration.seconds(5)
    static let readTimeout = Duration.seconds(15)

    /// `[start, end)` of block `index` of a file of `size` bytes.
    package static func range(ofBlock index: Int, size: Int64) -> Range<Int64> {
        let start = Int64(index) * Int64(blockSize)
        return start..<min(start + Int64(blockSize), size)
    }

    package static func blockCount(size: Int64) -> Int {
        Int((size + Int64(blockSize) - 1) / Int64(blockSize))
    }

    // MARK: meta blocks

    /// `UTF("KEY=value")`… then an empty UTF string.
    static func meta(_ entries: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (key, value) in entries {
            let text = Array("\(key)=\(value)".utf8)
            out += [UInt8(text.count >> 8), UInt8(text.count & 0xff)] + text
        }
        return out + [0, 0]
    }

    /// Reads a meta block: the first occurrence of each key; entries without `=` are skipped.
    /// At most this many entries in one meta block (the protocol uses a handful).
    static let maximumMetaEntries = 64
    /// The largest range a satellite may ask for at once (the protocol's blocks are 16 MiB).
    static let maximumRange: Int64 = 16 << 20

    static func readMeta(_ connection: SocketConnection, timeout: Duration) async throws -> [String: String] {
        var entries: [String: String] = [:]
        var count = 0
        while true {
            let length = Int(try await connection.receiveInteger(UInt16.self, timeout: timeout))
            if length == 0 { return entries }
            count += 1
            guard count <= maximumMetaEntries else {
                throw BlockTransferError.protocolError("the peer sent more than \(maximumMetaEntries) meta entries")
            }
            let text = String(decoding: try await connection.receive(exactly: length, timeout: timeout), as: UTF8.self)
            guard let equals = text.firstIndex(of: "=") else { continue }
            let key = String(text[..<equals])
            if entries[key] == nil { entries[key] = String(text[text.index(after: equals)...]) }
        }
    }

    static func parseRange(_ text: String?) -> Range<Int64>? {
        guard let text, let colon = text.firstIndex(of: ":"),
              let start = Int64(text[..<colon]), let end = Int64(text[text.index(after: colon)...]), start >= 0, start < end,
              end - start <= maximumRange
        else { return nil }
        return start..<end
    }

    // MARK: LZ4 frames

    /// Reads `length` bytes sent as LZ4 frames `[i32 decompressed][i32 compressed][payload]`.
    static func readFrames(_ connection: SocketConnection, length: Int, timeout: Duration) async throws -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(length)
        while out.count < length {
            let decompressed = Int(try await connection.receiveInteger(Int32.self, timeout: timeout))
            let compressed = Int(try await connection.receiveInteger(Int32.self, timeout: timeout))
            guard decompressed > 0, decompressed <= maxFrame, out.count + decompressed <= length,
                  compressed > 0, compressed <= LZ4_compressBound(Int32(maxFrame)) else {
                throw BlockTransferError.protocolError("an LZ4 frame of \(compressed) → \(decompressed) bytes does not fit the range")
            }
            let payload = try await connection.receive(exactly: compressed, timeout: timeout)
            if decompressed == compressed {
                out += payload
            } else {
                out += try decompress(payload, to: decompressed)
            }
        }
        return out
    }

    static func decompress(_ payload: [UInt8], to size: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: size)
        let written = payload.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { out in
                input.baseAddress!.withMemoryRebound(to: CChar.self, capacity: input.count) { source in
                    out.baseAddress!.withMemoryRebound(to: CChar.self, capacity: size) { target in
                        LZ4_decompress_safe(source, target, Int32(input.count), Int32(size))
                    }
                }
            }
        }
        guard written == size else { throw BlockTransferError.protocolError("an LZ4 frame does not decompress to its \(size) bytes") }
        return output
    }

    /// `bytes` as LZ4 frames; a frame stays raw unless compression saves more than an eighth.
    static func frames(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 100 + 64)
        var start = bytes.startIndex
        let bound = Int(LZ4_compressBound(Int32(maxFrame)))
        var scratch = [UInt8](repeating: 0, count: bound)
        while start < bytes.endIndex {
            let end = min(start + maxFrame, bytes.endIndex)
            let frame = bytes[start..<end]
            let compressed = frame.withUnsafeBufferPointer { input in
                scratch.withUnsafeMutableBufferPointer { out in
                    input.baseAddress!.withMemoryRebound(to: CChar.self, capacity: input.count) { source in
                        out.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bound) { target in
                            Int(LZ4_compress_default(source, target, Int32(input.count), Int32(bound)))
                        }
                    }
                }
            }
            ThriftBinary.append(Int32(frame.count), to: &out)
            if compressed > 0 && compressed * 9 / 8 < frame.count {
                ThriftBinary.append(Int32(compressed), to: &out)
                out += scratch[0..<compressed]
            } else {
                ThriftBinary.append(Int32(frame.count), to: &out)
                out += frame
            }
            start = end
        }
        return out
    }
}

package enum BlockTransferError: Error, Sendable, CustomStringConvertible {
    case protocolError(String)
    case remote(String)
    case integrity(String)

    package var description: String {
        switch self {
        case .protocolError(let message): "block transfer protocol error: \(message)"
        case .remote(let message): "the satellite aborted the transfer: \(message)"
        case .integrity(let message): message
        }
    }
}
