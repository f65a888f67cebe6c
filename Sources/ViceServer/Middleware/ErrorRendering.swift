import Foundation
import HTTPTypes
import Hummingbird
import ViceCore

/// How the API answers an error: status, a machine-readable kind, words for the caller, headers,
/// and whether the server log needs it.
struct ErrorAnswer: Sendable {
    var status: HTTPResponse.Status
    var kind: String
    var message: String
    var headers: HTTPFields = [:]
    /// A fault of this server, worth a log line with the cause.
    var isServerFault: Bool { status.code >= 500 && status != .badGateway && status != .serviceUnavailable && status != .gatewayTimeout }
}

/// An error that renders itself as an API answer. Errors that do not conform are answered 500
/// "internal" and logged: nothing unknown reaches a caller in its own words.
protocol RendersAPIError: Error {
    var answer: ErrorAnswer { get }
}

extension ViceError: RendersAPIError {
    var answer: ErrorAnswer {
        let status = Self.status(for: code)
        var headers: HTTPFields = [:]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Basic realm=\"vice\", charset=\"UTF-8\"" }
        if status == .tooManyRequests || status == .serviceUnavailable { headers[.retryAfter] = "\(retryAfter ?? 5)" }
        return ErrorAnswer(status: status, kind: code.name, message: message, headers: headers)
    }

    static func status(for code: Code) -> HTTPResponse.Status {
        switch code {
        case .invalidInput: .methodNotAllowed  // the spec's "405 Invalid input"
        case .notFound: .notFound
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .conflict: .conflict
        case .notImplemented: .notImplemented
        case .unavailable: .serviceUnavailable
        case .badGateway: .badGateway
        case .payloadTooLarge: .contentTooLarge
        case .tooManyRequests: .tooManyRequests
        case .unsupportedMediaType: .unsupportedMediaType
        case .badRequest: .badRequest
        default: .internalServerError
        }
    }
}

extension AdapterError: RendersAPIError {
    /// The environment's failures are the gateway's (502/503/504); what the caller set up wrongly
    /// is invalid input (405), and what the environment does not have is not found.
    var answer: ErrorAnswer {
        let (status, kind): (HTTPResponse.Status, String) = switch code {
        case .notFound: (.notFound, "notFound")
        case .unsupported, .invalidConfiguration: (.methodNotAllowed, "invalidInput")
        case .unavailable: (.serviceUnavailable, "unavailable")
        case .timeout: (.gatewayTimeout, "gatewayTimeout")
        default: (.badGateway, "badGateway")
        }
        var headers: HTTPFields = [:]
        if status == .serviceUnavailable { headers[.retryAfter] = "5" }
        return ErrorAnswer(status: status, kind: kind, message: message, headers: headers)
    }
}

extension EgressRefusal: RendersAPIError {
    var answer: ErrorAnswer { ErrorAnswer(status: .methodNotAllowed, kind: "invalidInput", message: description) }
}

extension ContentInspector.Mismatch: RendersAPIError {
    var answer: ErrorAnswer { ErrorAnswer(status: .methodNotAllowed, kind: "invalidInput", message: description) }
}

extension HTTPError {
    var answer: ErrorAnswer {
        ErrorAnswer(status: status, kind: ErrorMiddleware.kind(for: status), message: body ?? status.reasonPhrase, headers: headers)
    }
}
