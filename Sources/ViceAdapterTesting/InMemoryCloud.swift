import Foundation
import ViceCore

/// A pretend execution environment held in process memory, shared by every `InMemoryAdapter` whose
/// environment names it in `credentials.location`. Each new cloud holds a few sample images.
public final class InMemoryCloud: Sendable {
    public struct StoredImage: Sendable, Hashable {
        public var reference: String
        public var title: String
        public var contenttype: ContentType
        public var bytes: [UInt8]

        public init(reference: String, title: String, contenttype: ContentType, bytes: [UInt8]) {
            self.reference = reference
            self.title = title
            self.contenttype = contenttype
            self.bytes = bytes
        }
    }

    private struct State {
        var images: [String: StoredImage] = [:]
        var requiredPassword: String?
        var transientFailuresLeft = 0
    }

    private static let clouds = LockedBox<[String: InMemoryCloud]>([:])
    private let state = LockedBox(State())
    public let name: String

    init(name: String) {
        self.name = name
        for sample in Self.samples() {
            state.withLock { $0.images[sample.reference] = sample }
        }
    }

    /// The cloud called `name`, created on first use.
    public static func named(_ name: String) -> InMemoryCloud {
        clouds.withLock { clouds in
            if let cloud = clouds[name] { return cloud }
            let cloud = InMemoryCloud(name: name)
            clouds[name] = cloud
            return cloud
        }
    }

    /// Sample images every cloud starts with: deterministic bytes of each common kind.
    static func samples() -> [StoredImage] {
        var qcow2: [UInt8] = [0x51, 0x46, 0x49, 0xFB, 0, 0, 0, 3]  // "QFI\xfb", version 3
        qcow2 += pseudoRandomBytes(count: 64 * 1024 - qcow2.count, seed: 2)
        return [
            StoredImage(reference: "sample-raw", title: "Sample raw disk", contenttype: .diskRaw,
                        bytes: pseudoRandomBytes(count: 1 << 20, seed: 1)),
            StoredImage(reference: "sample-qcow2", title: "Sample qcow2 disk", contenttype: .diskQcow2, bytes: qcow2),
            StoredImage(reference: "sample-dockerfile", title: "Sample Dockerfile", contenttype: .dockerFile,
                        bytes: Array("FROM debian:12-slim\nRUN echo hello > /hello.txt\nCMD [\"cat\", \"/hello.txt\"]\n".utf8)),
        ]
    }

    /// Reproducible bytes (xorshift64*), so tests can compare what came back.
    public static func pseudoRandomBytes(count: Int, seed: UInt64) -> [UInt8] {
        var x = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var bytes = [UInt8](repeating: 0, count: count)
        var i = 0
        while i < count {
            x ^= x >> 12
            x ^= x << 25
            x ^= x >> 27
            var word = x &* 0x2545_F491_4F6C_DD1D
            for _ in 0..<8 where i < count {
                bytes[i] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                i += 1
            }
        }
        return bytes
    }

    public func put(_ image: StoredImage) {
        state.withLock { $0.images[image.reference] = image }
    }

    public func image(_ reference: String) -> StoredImage? {
        state.withLock { $0.images[reference] }
    }

    public var images: [StoredImage] {
        state.withLock { Array($0.images.values) }.sorted { $0.reference < $1.reference }
    }

    @discardableResult
    public func remove(_ reference: String) -> Bool {
        state.withLock { $0.images.removeValue(forKey: reference) != nil }
    }

    /// Makes logins with any other password fail.
    public func requirePassword(_ password: String?) {
        state.withLock { $0.requiredPassword = password }
    }

    /// Makes the next `count` imports or deployments fail as if the cloud were briefly down.
    public func failNext(_ count: Int) {
        state.withLock { $0.transientFailuresLeft = count }
    }

    func checkLogin(password: String?) throws {
        let required = state.withLock { $0.requiredPassword }
        if let required, required != password {
            throw AdapterError(.authenticationFailed, "the in-memory cloud '\(name)' refused the credentials")
        }
    }

    func consumeTransientFailure() throws {
        let fail = state.withLock { state -> Bool in
            guard state.transientFailuresLeft > 0 else { return false }
            state.transientFailuresLeft -= 1
            return true
        }
        if fail { throw AdapterError(.unavailable, "the in-memory cloud '\(name)' is briefly unavailable") }
    }
}
