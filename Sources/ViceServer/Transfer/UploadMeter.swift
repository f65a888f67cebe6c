import Crypto
import Foundation
import HTTPTypes
public import Hummingbird
public import ViceCore

/// Counts (and optionally hashes) the bytes flowing through an upload, refusing more than `limit`.
final class UploadMeter: @unchecked Sendable {
    private(set) var bytes: Int64 = 0
    private var hasher: SHA256?
    let limit: Int64

    init(limit: Int64, hashing: Bool) {
        self.limit = limit
        hasher = hashing ? SHA256() : nil
    }

    func consume(_ buffer: ByteBuffer) throws {
        bytes += Int64(buffer.readableBytes)
        guard bytes <= limit else {
            throw ViceError(.payloadTooLarge, "the upload is larger than the registry's limit of \(limit) bytes")
        }
        if hasher != nil {
            buffer.withUnsafeReadableBytes { hasher!.update(bufferPointer: $0) }
        }
    }

    /// The SHA-256 of what passed, as lower-case hex.
    func hexDigest() -> String? {
        hasher.map { $0.finalize().hexString }
    }
}

/// Passes byte buffers through an `UploadMeter`.
struct Metered<Base: AsyncSequence>: AsyncSequence where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let meter: UploadMeter

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let meter: UploadMeter

        mutating func next() async throws -> ByteBuffer? {
            guard let buffer = try await base.next() else { return nil }
            try meter.consume(buffer)
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), meter: meter)
    }
}

/// The digests a client declared for its upload: `Content-Digest: sha-256=:<base64>:` (RFC 9530)
/// covers the message content (for multipart, the whole form body), `X-Checksum-Sha256: <hex>` the
/// file itself.
struct DeclaredDigests {
    var content: String?
    var file: String?

    init(_ headers: HTTPFields) throws {
        if let value = headers[HTTPField.Name("Content-Digest")!] {
            for entry in value.split(separator: ",") {
                let parts = entry.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == "sha-256" else { continue }
                let encoded = parts[1].trimmingCharacters(in: .whitespaces)
                guard encoded.hasPrefix(":"), encoded.hasSuffix(":"), encoded.count > 2,
                      let raw = Data(base64Encoded: String(encoded.dropFirst().dropLast())), raw.count == 32 else {
                    throw ViceError(.badRequest, "Content-Digest sha-256 must be a base64 SHA-256 between colons (RFC 9530)")
                }
                content = raw.hexString
            }
        }
        if let value = headers[HTTPField.Name("X-Checksum-Sha256")!] {
            let hex = value.trimmingCharacters(in: .whitespaces).lowercased()
            guard hex.count == 64, hex.allSatisfy(\.isHexDigit) else {
                throw ViceError(.badRequest, "X-Checksum-Sha256 must be 64 hexadecimal digits")
            }
            file = hex
        }
    }
}

/// Request body buffers go into the blob store's ingest as they are.
extension ByteBuffer: ByteChunk {
    public var byteCount: Int { readableBytes }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeReadableBytes(body)
    }
}
