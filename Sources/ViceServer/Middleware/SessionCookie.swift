import Crypto
import Foundation
package import Hummingbird
import ViceCore

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
        SHA256.hash(data: Data(("vice-csrf\u{0}" + session).utf8)).hexString
    }

    /// Whether `given` is the session's CSRF token.
    package static func checks(_ given: String?, session: String) -> Bool {
        Registry.secretsMatch(given, csrf(for: session))
    }

    /// `Set-Cookie` for a session (nil: the cookie is cleared).
    package static func header(_ session: String?, secure: Bool) -> String {
        header(name: name, value: session, path: "/", maxAge: 86_400, secure: secure)
    }

    /// `Set-Cookie` for one of the dashboard's cookies: `HttpOnly`, `SameSite=Strict`, and
    /// `Secure` when asked; a nil value clears it.
    package static func header(name: String, value: String?, path: String, maxAge: Int, secure: Bool) -> String {
        var parts = ["\(name)=\(value ?? "")", "Path=\(path)", "HttpOnly", "SameSite=Strict", "Max-Age=\(value == nil ? 0 : maxAge)"]
        if secure { parts.append("Secure") }
        return parts.joined(separator: "; ")
    }
}
