/// A stored blob: its content digest (`sha256:<hex>`) and size in bytes.
public struct BlobRef: Sendable, Hashable, Codable {
    public var digest: String
    public var size: Int64

    public init(digest: String, size: Int64) {
        self.digest = digest
        self.size = size
    }
}

/// Image bytes, addressed by content. A put either commits the whole stream under its digest or
/// leaves nothing behind.
public protocol BlobStore: Sendable {
    /// Streams `content` into the store, hashing while writing; identical content is kept once.
    func put(_ content: ByteStream) async throws -> BlobRef
    /// The bytes of a blob; throws `notFound` when it is not there.
    func get(_ digest: String) async throws -> ByteStream
    func contains(_ digest: String) async throws -> Bool
    func delete(_ digest: String) async throws
}
