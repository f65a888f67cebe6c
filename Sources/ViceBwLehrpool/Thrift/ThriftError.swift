/// What a Thrift call can fail with: the transport, the protocol, the server's
/// TApplicationException, or one of the exceptions the method declares.
package enum ThriftError: Error, Sendable, CustomStringConvertible {
    case protocolError(String)
    /// TApplicationException {1: message, 2: type}.
    case application(type: Int32, message: String)
    /// TAuthorizationException {1: AuthorizationError number, 2: message}.
    case authorization(number: Int32, message: String)
    /// TInvocationException {1: InvocationError number, 2: message}.
    case invocation(number: Int32, message: String)
    case notFound(String)
    case transferRejected(String)
    case invalidToken

    package var description: String {
        switch self {
        case .protocolError(let message): "Thrift protocol error: \(message)"
        case .application(let type, let message): "the server failed the call (TApplicationException \(type)): \(message)"
        case .authorization(let number, let message): "not authorised (\(Self.authorizationNames[Int(number)] ?? "\(number)")): \(message)"
        case .invocation(let number, let message): "invalid call (\(Self.invocationNames[Int(number)] ?? "\(number)")): \(message)"
        case .notFound(let message): "not found: \(message)"
        case .transferRejected(let message): "transfer rejected: \(message)"
        case .invalidToken: "the transfer token is not known to the server"
        }
    }

    static let authorizationNames = [
        0: "GENERIC_ERROR", 1: "NOT_AUTHENTICATED", 2: "NO_PERMISSION", 3: "ACCOUNT_SUSPENDED", 4: "ORGANIZATION_SUSPENDED",
        5: "INVALID_CREDENTIALS", 6: "INVALID_ORGANIZATION", 7: "INVALID_KEY", 8: "INVALID_TOKEN", 9: "CHALLENGE_FAILED",
        10: "BANNED_NETWORK",
    ]
    static let invocationNames = [
        0: "MISSING_DATA", 1: "INVALID_DATA", 2: "UNKNOWN_IMAGE", 3: "UNKNOWN_USER", 4: "UNKNOWN_LECTURE",
        5: "INVALID_SHARE_MODE", 6: "INTERNAL_SERVER_ERROR",
    ]
}

/// The declared exceptions a method's result struct may carry, by field id.
package enum ThriftException: Sendable {
    case authorization, invocation, notFound, transferRejected, invalidToken

    func error(_ s: ThriftStruct) -> ThriftError {
        switch self {
        case .authorization: .authorization(number: s.i32(1) ?? 0, message: s.string(2) ?? "")
        case .invocation: .invocation(number: s.i32(1) ?? 0, message: s.string(2) ?? "")
        case .notFound: .notFound(s.string(1) ?? "")
        case .transferRejected: .transferRejected(s.string(1) ?? "")
        case .invalidToken: .invalidToken
        }
    }
}
