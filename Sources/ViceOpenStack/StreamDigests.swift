import Crypto
import ViceCore

/// Size, MD5, SHA-256 and one "multihash" (Glance's `os_hash_algo`) of bytes as they stream past.
final class StreamDigests: @unchecked Sendable {
    /// The digests of a finished stream, lower-case hex.
    struct Result: Sendable, Equatable {
        var size: Int64
        var md5: String
        var sha256: String
        var multihashAlgorithm: String?
        var multihash: String?
    }

    // Touched only by the one task that reads the stream, then read after its end.
    private var size: Int64 = 0
    private var md5 = Insecure.MD5()
    private var sha256 = SHA256()
    private var multihash: AnyHashFunction?
    private let multihashAlgorithm: String?
    private let result = LockedBox<Result?>(nil)

    /// `multihashAlgorithm`: `sha512`, `sha384` or `sha256`; anything else is not computed.
    init(multihashAlgorithm: String?) {
        let algorithm = multihashAlgorithm?.lowercased()
        multihash = algorithm.flatMap(AnyHashFunction.init(name:))
        self.multihashAlgorithm = multihash == nil ? nil : algorithm
    }

    /// `content`, unchanged, with every chunk counted and hashed; `finish` sees the result at the
    /// end and may throw to fail the stream (and so whatever consumes it).
    func wrap(_ content: ByteStream, finish: @escaping @Sendable (Result) throws -> Void = { _ in }) -> ByteStream {
        let box = IteratorBox(content.makeAsyncIterator())
        return ByteStream { [self] in
            guard let chunk = try await box.next() else {
                let result = finalize()
                try finish(result)
                return nil
            }
            update(chunk)
            return chunk
        }
    }

    /// The digests, once the stream has ended.
    var finished: Result? { result.withLock { $0 } }

    private func update(_ chunk: [UInt8]) {
        size += Int64(chunk.count)
        chunk.withUnsafeBytes { bytes in
            md5.update(bufferPointer: bytes)
            sha256.update(bufferPointer: bytes)
            multihash?.update(bytes)
        }
    }

    private func finalize() -> Result {
        if let done = result.withLock({ $0 }) { return done }
        let done = Result(size: size, md5: Self.hex(md5.finalize()), sha256: Self.hex(sha256.finalize()),
                          multihashAlgorithm: multihashAlgorithm, multihash: multihash?.finalize())
        result.withLock { $0 = done }
        return done
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// The SHA-2 functions Glance may name in `os_hash_algo`.
private enum AnyHashFunction {
    case sha256(SHA256), sha384(SHA384), sha512(SHA512)

    init?(name: String) {
        switch name {
        case "sha256": self = .sha256(SHA256())
        case "sha384": self = .sha384(SHA384())
        case "sha512": self = .sha512(SHA512())
        default: return nil
        }
    }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .sha256(var hash): hash.update(bufferPointer: bytes); self = .sha256(hash)
        case .sha384(var hash): hash.update(bufferPointer: bytes); self = .sha384(hash)
        case .sha512(var hash): hash.update(bufferPointer: bytes); self = .sha512(hash)
        }
    }

    func finalize() -> String {
        switch self {
        case .sha256(let hash): StreamDigests.hex(hash.finalize())
        case .sha384(let hash): StreamDigests.hex(hash.finalize())
        case .sha512(let hash): StreamDigests.hex(hash.finalize())
        }
    }
}

/// Lets the stream's closure advance an iterator it owns (read by one consumer at a time).
private final class IteratorBox: @unchecked Sendable {
    var iterator: ByteStream.AsyncIterator
    init(_ iterator: ByteStream.AsyncIterator) { self.iterator = iterator }
    func next() async throws -> [UInt8]? { try await iterator.next() }
}
