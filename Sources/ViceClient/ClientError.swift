import ViceCore
import Foundation

/// Why a client command failed, with the exit code it ends the process with (docs/client.md).
package struct ClientError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// The server refused or failed the request (4xx, 5xx not named below).
        case refused
        /// No credentials, or the server did not accept them (401, 403).
        case authentication
        /// What the command names does not exist (404).
        case notFound
        /// The server could not be reached (DNS, connection, TLS, timeout).
        case unreachable
        /// The job a command waited for failed or was cancelled.
        case jobFailed
        /// The bytes received do not match their digest.
        case digestMismatch
        /// The command line or a local file is wrong.
        case usage
    }

    package var kind: Kind
    package var message: String
    /// The HTTP status, when the server answered.
    package var status: Int?
    /// The server's request id, to quote in a report.
    package var requestID: String?
    /// For 429 and 503: how long the server asked to wait before trying again.
    package var retryAfter: Int?

    package init(_ kind: Kind, _ message: String, status: Int? = nil, requestID: String? = nil) {
        self.kind = kind
        self.message = message
        self.status = status
        self.requestID = requestID
    }

    package var exitCode: Int32 {
        switch kind {
        case .refused: 1
        case .authentication: 2
        case .notFound: 3
        case .unreachable: 4
        case .jobFailed: 5
        case .digestMismatch: 6
        case .usage: 64
        }
    }

    package var description: String {
        var text = message
        if let status { text += " (HTTP \(status)" + (requestID.map { ", request \($0)" } ?? "") + ")" }
        return text
    }

    /// The error for a server's answer: its JSON error body's message, when it has one.
    package static func answer(status: Int, body: [UInt8], retryAfter: String? = nil) -> ClientError {
        var message = "the server answered \(status)"
        var requestID: String?
        if case .object(let fields)? = try? JSONValue.decode(body) {
            if case .string(let text)? = fields["message"] { message = text }
            if case .string(let id)? = fields["requestId"] { requestID = id }
        } else if !body.isEmpty, body.count < 500 {
            message = String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let kind: Kind = switch status {
        case 401, 403: .authentication
        case 404: .notFound
        default: .refused
        }
        var error = ClientError(kind, message, status: status, requestID: requestID)
        if status == 429 || status == 503 { error.retryAfter = retryAfter.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
        return error
    }
}
