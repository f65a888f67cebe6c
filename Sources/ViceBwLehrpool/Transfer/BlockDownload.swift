package import ViceCore
import Crypto
import Foundation

/// A download (`'D'`): the satellite sends the ranges the client asks for. Blocks are fetched in
/// order, one 16 MiB block per call, LZ4-compressed on request, each checked against its SHA-1
/// and fetched again (up to three times) when it does not match.
package actor BlockDownload {
    let connection: SocketConnection
    let size: Int64
    let hashes: [[UInt8]]
    let compress: Bool
    private var nextBlock = 0
    private var finished = false

    package static let maxAttempts = 3

    package init(host: String, port: Int, security: TransportSecurity, token: String, size: Int64,
                hashes: [[UInt8]], compress: Bool = true, egress: EgressPolicy? = nil) async throws {
        connection = try await SocketConnection.connect(host: host, port: port, security: security, connectTimeout: .seconds(4),
                                                        egress: egress)
        self.size = size
        self.hashes = hashes
        self.compress = compress
        try await connection.send([UInt8(ascii: "D")] + BlockTransfer.meta([("TOKEN", token)]))
    }

    /// The next block, verified; nil after the last one (the transfer is then ended with DONE).
    package func next() async throws -> [UInt8]? {
        guard !finished else { return nil }
        let index = nextBlock
        guard index < BlockTransfer.blockCount(size: size) else {
            finished = true
            try await connection.send(BlockTransfer.meta([("DONE", "")]))
            connection.close()
            return nil
        }
        let range = BlockTransfer.range(ofBlock: index, size: size)
        var attempt = 0
        while true {
            attempt += 1
            let bytes = try await fetch(range)
            if index < hashes.count, !hashes[index].isEmpty, Array(Insecure.SHA1.hash(data: bytes)) != hashes[index] {
                guard attempt < Self.maxAttempts else {
                    abort()
                    throw BlockTransferError.integrity(
                        "block \(index) (bytes \(range.lowerBound)-\(range.upperBound)) failed its SHA-1 check \(attempt) times")
                }
                continue
            }
            nextBlock += 1
            return bytes
        }
    }

    private func fetch(_ range: Range<Int64>) async throws -> [UInt8] {
        var request: [(String, String)] = []
        if compress { request.append(("COMPRESS", "true")) }
        request.append(("RANGE", "\(range.lowerBound):\(range.upperBound)"))
        do {
            try await connection.send(BlockTransfer.meta(request))
            let reply = try await BlockTransfer.readMeta(connection, timeout: BlockTransfer.readTimeout)
            if let error = reply["ERROR"] { throw BlockTransferError.remote(error) }
            guard BlockTransfer.parseRange(reply["RANGE"]) == range else {
                throw BlockTransferError.protocolError("asked for \(range), the satellite answers RANGE=\(reply["RANGE"] ?? "none")")
            }
            let length = Int(range.count)
            if reply["COMPRESS"] == "true" {
                return try await BlockTransfer.readFrames(connection, length: length, timeout: BlockTransfer.readTimeout)
            }
            return try await connection.receive(exactly: length, timeout: BlockTransfer.readTimeout)
        } catch {
            abort()
            throw error
        }
    }

    /// Ends the transfer early (the connection is dropped).
    package func abort() {
        finished = true
        connection.close()
    }
}
