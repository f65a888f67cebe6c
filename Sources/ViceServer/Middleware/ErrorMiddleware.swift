import Foundation
package import Hummingbird
import Logging
import ViceCore

/// The JSON body of every error response.
package struct ErrorBody: Codable, Sendable {
    /// The HTTP status code.
    package var code: Int
    /// A machine-readable kind (`invalidInput`, `notFound`, …).
    package var error: String
    /// What went wrong, for people.
    package var message: String
    /// Quote it when reporting a problem: it is in the server's log lines too.
    package var requestId: String?
}

/// Turns every error into a JSON response: errors that render themselves (`RendersAPIError`:
/// the registry's, adapters', policy refusals) with their status — the spec's 405 for invalid
/// input, 404, 401 with a Basic challenge, … —, Hummingbird's with theirs, and anything else as a
/// 500 that is logged with its cause.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = ViceRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var answer = Self.answer(for: error, requestID: context.id)
            if let http = error as? HTTPError, http.status == .notFound, http.body == nil {
                answer.message = "no such route: \(request.method) \(request.uri.path)"
            }
            if answer.isServerFault {
                context.logger.error("request failed", metadata: ["error": "\(error)", "type": "\(type(of: error))"])
            }
            return try Self.response(status: answer.status, kind: answer.kind, message: answer.message, context: context,
                                     headers: answer.headers)
        }
    }

    /// The answer for any error: its own, or a 500 that names the request id, never the error.
    static func answer(for error: any Error, requestID: String) -> ErrorAnswer {
        switch error {
        case let error as any RendersAPIError: error.answer
        case let error as HTTPError: error.answer
        default:
            ErrorAnswer(status: .internalServerError, kind: "internal", message: "internal error; see the server log for request \(requestID)")
        }
    }

    static func status(for code: ViceError.Code) -> HTTPResponse.Status {
        ViceError.status(for: code)
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

/// What the API would answer for `error` — its status, its message for the caller, and whether
/// it is this server's fault (worth a log line) — for front ends that render errors otherwise
/// (the dashboard's HTML pages).
package func describeForCaller(_ error: any Error, requestID: String) -> (status: HTTPResponse.Status, message: String, isServerFault: Bool) {
    let answer = ErrorMiddleware.answer(for: error, requestID: requestID)
    return (answer.status, answer.message, answer.isServerFault)
}
