import Hummingbird
import ViceCore
import Foundation

/// The media type of a request body, checked at the edge.
enum MediaType {
    /// The type without parameters, lower case (`application/json; charset=utf-8` → `application/json`).
    static func essence(of request: Request) -> String? {
        request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// 415 unless the body's type is one of `allowed` (nil = absent, when `allowsNone`).
    static func require(_ request: Request, oneOf allowed: Set<String>, allowsNone: Bool = false, what: String) throws {
        guard let type = essence(of: request) else {
            if allowsNone { return }
            throw ViceError(.unsupportedMediaType, "\(what) needs Content-Type \(allowed.sorted().joined(separator: " or "))")
        }
        guard allowed.contains(type) else {
            throw ViceError(.unsupportedMediaType,
                            "Content-Type \(RemoteText.excerpt(type, limit: 80)) is not accepted here; \(what) is \(allowed.sorted().joined(separator: " or "))")
        }
    }
}
