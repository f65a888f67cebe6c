import Crypto
import Foundation
package import Hummingbird

/// The dashboard's session: an API token (named `dashboard session`, one day) in an `HttpOnly`,
/// `SameSite=Strict` cookie. Requests it authenticates that change something must also carry
/// the session's CSRF token (`X-Vice-CSRF`, or a form's `csrf` field), which only pages of the
/// registry know: a digest of the session secret, so nothing is stored for it.
package enum SessionCookie {
    package static let name = "vice_session"
    package static let csrfHeader = "X-Vice-CSRF"

    /// The session token the request's cookie carries, if any.
    package static func token(in request: Request) -> String? {
        cookie(name, in: request)
    }

    /// The value of cookie `name` (the first, when a browser sends several).
    package static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    let value = parts[1].trimmingCharacters(in: .whitespaces)
                    return value.isEmpty ? nil : value
                }
            }
        }
        return nil
    }

    /// The CSRF token that belongs to a session token.
    package static func csrf(for session: String) -> String {
        SHA256.hash(data: Data(("vice-csrf\u{0}" + session).utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `given` is the session's CSRF token, compared as digests.
    package static func checks(_ given: String?, session: String) -> Bool {
        same(given, csrf(for: session))
    }

    /// Whether two secrets are equal, compared as digests (no early exit on the first byte).
    package static func same(_ given: String?, _ expected: String) -> Bool {
        guard let given else { return false }
        return Data(SHA256.hash(data: Data(given.utf8))) == Data(SHA256.hash(data: Data(expected.utf8)))
    }

    /// `Set-Cookie` for a session (nil: the cookie is cleared).
    package static func header(_ session: String?, secure: Bool) -> String {
        var parts = ["\(name)=\(session ?? "")", "Path=/", "HttpOnly", "SameSite=Strict"]
        if session == nil { parts.append("Max-Age=0") } else { parts.append("Max-Age=86400") }
        if secure { parts.append("Secure") }
        return parts.joined(separator: "; ")
    }
}
