import Foundation
public import ViceCore

/// A pretend execution environment held in process memory. Clouds are keyed by owner and
/// `credentials.location`: two users who name the same location get two clouds, and neither sees
/// what the other deployed. A cloud keeps the password it was first opened with and refuses any
/// other. Each new cloud holds a few sample images; clouds per owner and bytes in all clouds are
/// capped, so that the demo backend cannot be made to eat the server's memory.
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

    private struct Key: Hashable {
        var owner: String
        var name: String
    }

    private static let clouds = LockedBox<[Key: InMemoryCloud]>([:])
    /// Bytes held by every cloud's deployed images together (samples are not counted).
    private static let deployedBytes = LockedBox<Int>(0)
    /// At most this many clouds per owner. A cloud costs little (the samples' bytes are shared).
    public static let maximumCloudsPerOwner = 256
    /// At most this many clouds in all.
    public static let maximumClouds = 10_000
    /// At most this many deployed bytes in all clouds together.
    public static let maximumTotalBytes = 1 << 30

    private let state = LockedBox(State())
    public let name: String

    init(name: String, password: String?) {
        self.name = name
        state.withLock { $0.requiredPassword = password ?? "" }
        for sample in Self.sampleImages {
            state.withLock { $0.images[sample.reference] = sample }
        }
    }

    /// The cloud `name` of `owner`, created on first use with `password` as its password.
    public static func open(_ name: String, owner: String, password: String?) throws -> InMemoryCloud {
        try clouds.withLock { clouds in
            let key = Key(owner: owner, name: name)
            if let cloud = clouds[key] { return cloud }
            guard clouds.count < maximumClouds else {
                throw AdapterError(.invalidConfiguration, "the in-memory adapter holds \(maximumClouds) clouds, its limit")
            }
            guard clouds.keys.filter({ $0.owner == owner }).count < maximumCloudsPerOwner else {
                throw AdapterError(.invalidConfiguration, "the in-memory adapter keeps at most \(maximumCloudsPerOwner) clouds per user; reuse a location")
            }
            let cloud = InMemoryCloud(name: name, password: password)
            clouds[key] = cloud
            return cloud
        }
    }

    /// The cloud `name` of `owner`, for tests: created without a password check when new.
    public static func named(_ name: String, owner: String) -> InMemoryCloud {
        clouds.withLock { clouds in
            let key = Key(owner: owner, name: name)
            if let cloud = clouds[key] { return cloud }
            let cloud = InMemoryCloud(name: name, password: nil)
            cloud.state.withLock { $0.requiredPassword = nil }
            clouds[key] = cloud
            return cloud
        }
    }

    /// Counts `count` more deployed bytes against the total, or refuses them.
    static func reserve(_ count: Int) throws {
        try deployedBytes.withLock { total in
            guard total + count <= maximumTotalBytes else {
                throw AdapterError(.unsupported, "the in-memory clouds hold at most \(maximumTotalBytes) deployed bytes in all; remove deployments first")
            }
            total += count
        }
    }

    static func release(_ count: Int) {
        deployedBytes.withLock { $0 = max(0, $0 - count) }
    }

    /// Made once: every cloud shares their storage.
    static let sampleImages = samples()

    /// Sample images every cloud starts with: deterministic bytes of each common kind.
    static func samples() -> [StoredImage] {
        // A qcow2 version 3 header (64 KiB clusters, 64 MiB virtual size, no backing file, no
        // features), an empty extension list, then bytes that stand for the tables and data.
        func be(_ value: UInt64, _ width: Int) -> [UInt8] { (0..<width).reversed().map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }
        var qcow2: [UInt8] = [0x51, 0x46, 0x49, 0xFB] + be(3, 4) + be(0, 8) + be(0, 4) + be(16, 4) + be(64 << 20, 8)
        qcow2 += be(0, 4) + be(1, 4) + be(0x30000, 8) + be(0x10000, 8) + be(1, 4) + be(0, 4) + be(0, 8)
        qcow2 += be(0, 8) + be(0, 8) + be(0, 8) + be(4, 4) + be(104, 4)
        qcow2 += [UInt8](repeating: 0, count: 8)  // end of the header extensions
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

    /// Stores a deployed image, counted against the total cap.
    func deploy(_ image: StoredImage) throws {
        try Self.reserve(image.bytes.count)
        put(image)
    }

    public func image(_ reference: String) -> StoredImage? {
        state.withLock { $0.images[reference] }
    }

    public var images: [StoredImage] {
        state.withLock { Array($0.images.values) }.sorted { $0.reference < $1.reference }
    }

    @discardableResult
    public func remove(_ reference: String) -> Bool {
        guard let removed = state.withLock({ $0.images.removeValue(forKey: reference) }) else { return false }
        if !reference.hasPrefix("sample-") { Self.release(removed.bytes.count) }
        return true
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
        if let required, required != (password ?? "") {
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
