import Foundation

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

    // Staging: uploads are written to a staging file first and committed by a store job.

    /// A new, not yet existing file in the staging area for bytes of `imageID`.
    func makeStagingFile(for imageID: String) throws -> URL
    /// Random access to a staged file, for inspection.
    func openStaged(_ file: URL) async throws -> any ByteReader
    /// Moves a staged file whose content has `digest` into the store (or drops it when the
    /// store holds that content already).
    func commitStaged(_ file: URL, digest: String) async throws -> BlobRef
    func removeStaged(_ file: URL) async
    /// Every file in the staging area (start-up removes those no store job refers to).
    func stagedFiles() throws -> [URL]
    /// The blob as a local file, when the store keeps blobs on this machine (for zero-copy serving).
    func localFile(of digest: String) throws -> URL?
}
