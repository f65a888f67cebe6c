package import Foundation
package import ViceCore

/// An upload (`'U'`): the satellite asks for ranges — in any order, again after a bad hash — and
/// the client answers each from the file at that offset, LZ4-compressed when the satellite offers
/// it. Ends when the satellite says `DONE=`.
package enum BlockUpload {
    /// Serves `file` (random access) until the satellite is done; returns the number of ranges served.
    @discardableResult
    package static func run(host: String, port: Int, security: TransportSecurity, token: String,
                           file: URL, size: Int64, egress: EgressPolicy? = nil) async throws -> Int {
        let connection = try await SocketConnection.connect(host: host, port: port, security: security, connectTimeout: .seconds(4),
                                                            egress: egress)
        defer { connection.close() }
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        let reader = RangeReader(handle: handle)
        try await connection.send([UInt8(ascii: "U")] + BlockTransfer.meta([("TOKEN", token)]))
        var served = 0
        while true {
            let request = try await BlockTransfer.readMeta(connection, timeout: .seconds(60))
            if let error = request["ERROR"] { throw BlockTransferError.remote(error) }
            if request["DONE"] != nil { return served }
            guard let range = BlockTransfer.parseRange(request["RANGE"]), range.upperBound <= size else {
                throw BlockTransferError.protocolError("the satellite asked for RANGE=\(request["RANGE"] ?? "none") of a \(size)-byte file")
            }
            let bytes = try await reader.read(range)
            let compress = request["COMPRESS"] == "true"
            var reply: [(String, String)] = []
            if compress { reply.append(("COMPRESS", "true")) }
            reply.append(("RANGE", "\(range.lowerBound):\(range.upperBound)"))
            try await connection.send(BlockTransfer.meta(reply) + (compress ? BlockTransfer.frames(bytes[...]) : bytes))
            served += 1
        }
    }
}

/// Reads ranges of a file on BlockingIO threads.
final class RangeReader: @unchecked Sendable {
    let handle: FileHandle
    init(handle: FileHandle) { self.handle = handle }

    func read(_ range: Range<Int64>) async throws -> [UInt8] {
        let handle = self.handle
        return try await BlockingIO.run {
            try handle.seek(toOffset: UInt64(range.lowerBound))
            let data = try handle.read(upToCount: Int(range.count)) ?? Data()
            guard data.count == Int(range.count) else {
                throw BlockTransferError.protocolError("the file ends before \(range.upperBound)")
            }
            return [UInt8](data)
        }
    }
}
