import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ViceCore
import ViceServer

extension Dashboard {
    /// The sign-in form. Its CSRF token is a random value the page and a short-lived cookie
    /// share (double submit): another site can neither read the cookie nor set the field.
    func loginPage(_ request: Request, _ context: ViceRequestContext, error: String?, status: HTTPResponse.Status = .ok) async throws -> Response {
        let token = SessionCookie.cookie("vice_login", in: request) ?? IDGenerator.make(length: 32)
        let next = Query(request: request).string("next") ?? "/ui/images"
        let alert: HTML = error.map { HTML("<p role=\"alert\" class=\"error\" id=\"login-error\">\($0)</p>") } ?? ""
        let body: HTML = """
            <h1>Sign in</h1>
            \(alert)
            <form method="post" action="/ui/login" class="card narrow">
            <input type="hidden" name="csrf" value="\(token)">
            <input type="hidden" name="next" value="\(next)">
            \(Markup.field("User name", name: "username", required: true))
            \(Markup.field("Password", name: "password", type: "password", required: true))
            <button type="submit" class="primary">Sign in</button>
            </form>
            """
        var response = Self.html(Layout.page(title: "Sign in", visitor: nil, body: body), status: status)
        response.headers[.setCookie] = SessionCookie.header(name: "vice_login", value: token, path: "/ui/login", maxAge: 3600,
                                                            secure: secure(request))
        return response
    }

    /// Checks the password (with the registry's login limits), makes a session token for one
    /// day and sets it as the cookie.
    func login(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let form = try await Form(request)
        guard let expected = SessionCookie.cookie("vice_login", in: request), Registry.secretsMatch(form["csrf"], expected) else {
            return try await loginPage(request, context, error: "The form expired; please sign in again.", status: .forbidden)
        }
        let user: UserRecord
        do {
            user = try await registry.authenticate(username: form["username"] ?? "", password: form["password"] ?? "",
                                                   address: context.clientAddress)
        } catch let error as ViceError where error.code == .unauthorized || error.code == .tooManyRequests {
            return try await loginPage(request, context, error: error.code == .unauthorized ? "Wrong user name or password." : error.message,
                                       status: error.code == .unauthorized ? .unauthorized : .tooManyRequests)
        }
        let principal = Principal(user: user, scope: Registry.passwordScope(of: user))
        let session = try await registry.createToken(APIToken(name: "dashboard session", scope: principal.scope, expiresInDays: 1),
                                                     by: principal)
        guard let secret = session.token else { throw ViceError(.internal, "no session token was made") }
        // Only pages of the dashboard: never an address elsewhere.
        let next = form["next"].flatMap { $0.hasPrefix("/ui/") && !$0.hasPrefix("//") && !$0.contains("\\") ? $0 : nil } ?? "/ui/images"
        var response = Self.redirect(next)
        response.headers[.setCookie] = SessionCookie.header(secret, secure: secure(request))
        return response
    }

    /// Revokes the session's token and clears the cookie.
    func logout(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let form = try await Form(request)
        if let session = SessionCookie.token(in: request) {
            guard SessionCookie.checks(form["csrf"], session: session) else {
                throw ViceError(.forbidden, "the sign-out form is not this session's")
            }
            // Revoked by its secret, whatever the login limits say; a failure is shown, not hidden.
            try await registry.revoke(token: session)
        }
        var response = Self.redirect("/ui/login")
        response.headers[.setCookie] = SessionCookie.header(nil, secure: secure(request))
        return response
    }
}

/// An `application/x-www-form-urlencoded` body (16 KiB at most).
struct Form {
    private var values: [String: String] = [:]

    init(_ request: Request) async throws {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: 16 << 10)
        } catch is NIOTooManyBytesError {
            throw ViceError(.payloadTooLarge, "the form is larger than 16 KiB")
        }
        let text = String(buffer: body)
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let name = parts.first, values[name] == nil { values[name] = parts.count > 1 ? parts[1] : "" }
        }
    }

    subscript(name: String) -> String? { values[name] }
}
