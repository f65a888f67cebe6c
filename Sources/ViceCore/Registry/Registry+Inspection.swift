import Foundation

/// Content inspection: bytes are checked against their content type (disk headers, archives)
/// before they are committed, and again before anything leaves for an environment.
extension Registry {
    /// Inspects the sealed bytes of an ingest as `type`; a refusal is invalid input.
    func inspect(_ ingest: any BlobIngest, as type: ContentType) async throws {
        let reader = try await ingest.reader()
        try await Self.check(reader, is: type)
    }

    /// Inspects stored bytes as `type`. A store without local files is not inspected here (its
    /// bytes were, on the way in).
    func inspectStored(_ digest: String, as type: ContentType) async throws {
        guard let file = try blobs.localFile(of: digest) else { return }
        try await Self.check(try await BlockingIO.run { try FileByteReader(path: file.path) }, is: type)
    }

    /// The content type of `reader` — `declared`, or detected when nothing was declared —
    /// checked; a refusal is invalid input ending in `suffix`.
    static func checkedType(of reader: any ByteReader, declared: ContentType?, suffix: String = "") async throws -> ContentType {
        let type = try await BlockingIO.run { declared ?? ContentInspector.detect(reader) }
        try await check(reader, is: type, suffix: suffix)
        return type
    }

    private static func check(_ reader: any ByteReader, is type: ContentType, suffix: String = "") async throws {
        do {
            try await BlockingIO.run { try ContentInspector.check(reader, is: type) }
        } catch let mismatch as ContentInspector.Mismatch {
            throw ViceError.invalidInput(mismatch.description + suffix)
        }
    }
}
