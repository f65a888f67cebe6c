import Foundation
import Hummingbird
import Logging
import ViceCore

/// The JSON body of every error response.
public struct ErrorBody: Codable, Sendable {
    /// The HTTP status code.
    public var code: Int
    /// A machine-readable kind (`invalidInput`, `notFound`, …).
    public var error: String
    /// What went wrong, for people.
    public var message: String
    /// Quote it when reporting a problem: it is in the server's log lines too.
    public var requestId: String?
}

/// Turns every error into a JSON response with the spec's status codes: invalid input → 405,
/// unknown id → 404, missing or bad credentials → 401 (with a Basic challenge).
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ViceRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ViceError {
            let status = Self.status(for: error.code)
            if status == .internalServerError {
                context.logger.error("request failed", metadata: ["error": "\(error)"])
            }
            var headers: HTTPFields = [:]
            if status == .unauthorized { headers[.wwwAuthenticate] = "Basic realm=\"vice\", charset=\"UTF-8\"" }
            if status == .tooManyRequests || status == .serviceUnavailable { headers[.retryAfter] = "\(error.retryAfter ?? 5)" }
            return try Self.response(status: status, kind: error.code.name, message: error.message, context: context, headers: headers)
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound ? "no such route: \(request.method) \(request.uri.path)" : error.status.reasonPhrase)
            return try Self.response(status: error.status, kind: Self.kind(for: error.status), message: message, context: context,
                                     headers: error.headers)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            return try Self.response(status: .internalServerError, kind: "internal",
                                     message: "internal error; see the server log for request \(context.id)", context: context)
        }
    }

    static func status(for code: ViceError.Code) -> HTTPResponse.Status {
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

    static func kind(for status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "notFound"
        case .methodNotAllowed: "invalidInput"
        case .unauthorized: "unauthorized"
        case .contentTooLarge: "payloadTooLarge"
        default: status.code >= 500 ? "internal" : "badRequest"
        }
    }

    static func response(status: HTTPResponse.Status, kind: String, message: String, context: Context,
                         headers: HTTPFields = [:]) throws -> Response {
        try JSONBody.response(ErrorBody(code: status.code, error: kind, message: message, requestId: context.id),
                              status: status, headers: headers)
    }
}
