package import Foundation

/// The life of an image's bytes, and so its `status` and `statusMessage`: the one place where they
/// change. A value without I/O — the registry reads the image, applies an event in a transaction,
/// and writes the image back when the event answers `.persist`.
///
/// ```
///            queueImport              beginImport              commit
///   (new) ──▶ queued ─────────────────▶ importing ──────────────▶ active
///               ▲  └── beginStore ──▶ storing ── commit ─────────▶ ▲
///               └──── retry (import) ◀─┘                            │
///   fail: active when older bytes remain (the image keeps serving them), failed otherwise
///   cancel: the same, cancelled instead of failed
/// ```
package struct ImageLifecycle: Sendable, Hashable {
    /// What brought (or failed to bring) the bytes.
    package enum Operation: String, Sendable, Hashable {
        case `import`, upload
    }

    /// Whether the image must be written back.
    package enum Change: Sendable, Hashable {
        case persist, unchanged
    }

    /// An event the status does not allow.
    package typealias Refused = LifecycleRefusal<ImageStatus>

    package private(set) var image: Image

    package init(_ image: Image) {
        self.image = image
    }

    /// The status of an image that was just created: waiting for an import or an upload.
    package static let initialStatus = ImageStatus.queued

    var status: ImageStatus { image.status ?? Self.initialStatus }
    var hasBytes: Bool { image.checksum != nil }

    /// An import was asked for (created or updated with an origin). An active image keeps serving
    /// its bytes meanwhile and only says that new ones are coming.
    @discardableResult
    package mutating func queueImport(at now: Date = Date()) -> Change {
        if status == .active {
            image.statusMessage = "re-import queued"
        } else {
            image.status = .queued
            image.statusMessage = nil
        }
        return touched(now)
    }

    /// The import job starts fetching. Refused while an upload's bytes are being committed (the
    /// job waits for the store job rather than race it).
    @discardableResult
    package mutating func beginImport(at now: Date = Date()) throws(Refused) -> Change {
        switch status {
        case .storing: throw Refused(event: "begin an import", status: status)
        case .active: return .unchanged  // keeps serving the bytes it has until the new ones are in
        case .queued, .importing, .failed, .cancelled:
            image.status = .importing
            return touched(now)
        }
    }

    /// An upload's bytes are staged and durable: the store job inspects and commits them.
    @discardableResult
    package mutating func beginStore(at now: Date = Date()) -> Change {
        image.status = .storing
        image.statusMessage = nil
        return touched(now)
    }

    /// New bytes are in the store. Returns the digest the image held before, which the caller
    /// frees when no other image holds it.
    /// `imported` says where they came from: the origin environment (true), or an upload.
    package mutating func commit(_ blob: BlobRef, imported: Bool, contenttype: ContentType?, title: String? = nil,
                                specifics: JSONValue? = nil, at now: Date = Date()) -> String? {
        let previous = image.checksum
        image.status = .active
        image.statusMessage = nil
        image.imported = imported
        image.size = blob.size
        image.checksum = blob.digest
        image.contenttype = contenttype ?? image.contenttype
        if image.title == nil { image.title = title }
        if image.specifics == nil { image.specifics = specifics }
        touched(now)
        return previous
    }

    /// An attempt failed and runs again later: an import goes back to the queue (unless older
    /// bytes keep the image active); the reason is shown either way.
    @discardableResult
    package mutating func retry(_ operation: Operation, reason: String, at now: Date = Date()) -> Change {
        if operation == .import && status != .active { image.status = .queued }
        image.statusMessage = reason
        return touched(now)
    }

    /// The operation failed for good. An image with older bytes keeps them and stays active;
    /// one without has failed.
    @discardableResult
    package mutating func fail(_ operation: Operation, reason: String, at now: Date = Date()) -> Change {
        if hasBytes {
            image.status = .active
            image.statusMessage = "the last \(operation.rawValue) failed: \(reason)"
        } else {
            image.status = .failed
            image.statusMessage = "\(operation.rawValue) failed: \(reason)"
        }
        return touched(now)
    }

    /// A caller cancelled the operation. An image with older bytes keeps them and stays active;
    /// one without is cancelled.
    @discardableResult
    package mutating func cancel(_ operation: Operation, at now: Date = Date()) -> Change {
        if hasBytes {
            image.status = .active
            image.statusMessage = "the last \(operation.rawValue) was cancelled"
        } else {
            image.status = .cancelled
            image.statusMessage = "\(operation.rawValue) cancelled"
        }
        return touched(now)
    }

    @discardableResult
    private mutating func touched(_ now: Date) -> Change {
        image.updatedAt = now
        return .persist
    }
}

extension Image {
    /// Whether the image has bytes that may be read (downloaded, deployed) now: an active image,
    /// or one whose new upload is being committed while the old bytes stay.
    package var servesBytes: Bool {
        status == .active || (status == .storing && checksum != nil)
    }
}
