/// The registry's error: a code that the API maps to a status, a message meant for the caller,
/// and the underlying cause for logs.
public struct ViceError: Error, Sendable, CustomStringConvertible {
    /// An extensible set of error kinds.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The request is malformed or names something that cannot be used (the spec's 405).
        public static let invalidInput = Code("invalidInput")
        /// The request is malformed at the protocol level (a broken multipart body, a digest that
        /// does not match): the spec's 400.
        public static let badRequest = Code("badRequest")
        /// The content is larger than the registry accepts.
        public static let payloadTooLarge = Code("payloadTooLarge")
        public static let notFound = Code("notFound")
        public static let unauthorized = Code("unauthorized")
        public static let forbidden = Code("forbidden")
        public static let conflict = Code("conflict")
        public static let notImplemented = Code("notImplemented")
        /// The body's media type is not one the operation takes: the API's 415.
        public static let unsupportedMediaType = Code("unsupportedMediaType")
        /// The caller has too much going on at once (uploads, login attempts): the API's 429.
        public static let tooManyRequests = Code("tooManyRequests")
        /// A peer or resource is temporarily unavailable; retrying may help.
        public static let unavailable = Code("unavailable")
        /// The execution environment behind an adapter failed to answer.
        public static let badGateway = Code("badGateway")
        public static let `internal` = Code("internal")
    }

    public var code: Code
    public var message: String
    public var cause: (any Error & Sendable)?
    /// For 429 and 503: when a retry may succeed, in seconds (the API's `Retry-After`).
    public var retryAfter: Int?

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause { return "\(code): \(message) (\(cause))" }
        return "\(code): \(message)"
    }

    public static func invalidInput(_ message: String) -> ViceError { ViceError(.invalidInput, message) }
    public static func notFound(_ message: String) -> ViceError { ViceError(.notFound, message) }
    public static func conflict(_ message: String) -> ViceError { ViceError(.conflict, message) }
}
