import ViceSupport

/// Why an HTTP exchange failed, with the stage it failed in.
package struct HTTPClientError: Error, Sendable, CustomStringConvertible {
    package enum Kind: String, Sendable {
        /// The host name could not be resolved.
        case dns
        /// No connection could be made (refused, unreachable, socket missing).
        case connect
        /// TLS handshake or certificate verification failed.
        case tls
        /// The connect or idle timeout passed.
        case timeout
        /// The calling task was cancelled.
        case cancelled
        /// The request could not be sent (its body failed, the connection broke while sending).
        case send
        /// The response could not be received completely.
        case receive
        /// The request was malformed (URL, method, options).
        case invalidRequest
        /// The request body's own stream failed (the bytes to send were refused on the way).
        case body
        /// The egress policy refused the address (or socket) the request would connect to.
        case refused
    }

    package var kind: Kind
    package var message: String
    /// libcurl's result code, when libcurl reported the failure.
    package var curlCode: Int?

    package init(_ kind: Kind, _ message: String, curlCode: Int? = nil) {
        self.kind = kind
        self.message = message
        self.curlCode = curlCode
    }

    package var description: String { "\(kind.rawValue): \(message)" }

    /// Whether trying again later may help.
    package var isTransient: Bool {
        switch kind {
        case .dns, .connect, .timeout, .send, .receive: true
        case .tls, .cancelled, .invalidRequest, .refused, .body: false
        }
    }
}

extension HTTPClientError: RetryClassifying {}
