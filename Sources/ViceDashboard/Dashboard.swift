import Foundation
import HTTPTypes
package import Hummingbird
import Logging
import NIOCore
package import ViceCore
package import ViceServer

/// The web dashboard at `/ui/`: pages rendered here from the registry (lists and details read
/// without JavaScript), and a small script of the registry's own (`/ui/assets/dashboard.js`)
/// that acts through the `/v1` API with the session cookie and its CSRF token — uploads with a
/// progress bar, imports, deploys, cancels, live job progress from the event stream. No build
/// step, no third-party request: the assets are embedded in the binary.
package struct Dashboard: Sendable {
    let registry: Registry
    /// Whether cookies get `Secure` (the server speaks TLS itself); a request that came through a
    /// TLS proxy (`X-Forwarded-Proto: https`) gets it too.
    let secureCookies: Bool

    package init(registry: Registry, secureCookies: Bool) {
        self.registry = registry
        self.secureCookies = secureCookies
    }

    typealias Handler = @Sendable (Request, ViceRequestContext) async throws -> Response

    /// Adds the dashboard's routes to the API's router.
    package func register(on router: Router<ViceRequestContext>) {
        router.get("/") { _, _ in Self.redirect("/ui/") }
        // (`/ui/` is the same route: the router ignores a trailing slash.)
        router.get("/ui") { _, _ in Self.redirect("/ui/images") }
        router.get("/ui/assets/dashboard.js") { _, _ in Self.asset(DashboardAssets.script, type: "text/javascript; charset=utf-8") }
        router.get("/ui/assets/dashboard.css") { _, _ in Self.asset(DashboardAssets.style, type: "text/css; charset=utf-8") }
        router.get("/ui/login", use: page { try await self.loginPage($0, $1, error: nil) })
        router.post("/ui/login", use: page { try await self.login($0, $1) })
        router.post("/ui/logout", use: page { try await self.logout($0, $1) })
        router.get("/ui/images", use: signedIn { try await self.imagesPage($0, $1) })
        router.get("/ui/images/:id", use: signedIn { try await self.imagePage($0, $1) })
        router.get("/ui/environments", use: signedIn { try await self.environmentsPage($0, $1) })
        router.get("/ui/environments/:id", use: signedIn { try await self.environmentPage($0, $1) })
        router.get("/ui/deployments", use: signedIn { try await self.deploymentsPage($0, $1) })
        router.get("/ui/jobs", use: signedIn { try await self.jobsPage($0, $1) })
        router.get("/ui/account", use: signedIn { try await self.accountPage($0, $1) })
        router.get("/ui/admin", use: signedIn { try await self.adminPage($0, $1) })
    }

    /// A page for a signed-in user: the session is checked, and errors become an HTML page.
    private func signedIn(_ body: @escaping @Sendable (Request, Visitor) async throws -> Response) -> Handler {
        { request, context in
            guard let token = SessionCookie.token(in: request) else { return Self.redirect(Self.loginURL(for: request)) }
            let principal: Principal
            do {
                principal = try await registry.authenticate(token: token, username: nil, address: context.clientAddress)
            } catch let error as ViceError where error.code == .unauthorized {
                // Expired or signed out elsewhere: the cookie goes.
                var response = Self.redirect(Self.loginURL(for: request))
                response.headers[.setCookie] = SessionCookie.header(nil, secure: secure(request))
                return response
            } catch {
                return errorPage(error, visitor: nil, context: context)
            }
            let visitor = Visitor(user: principal.actingUser, session: token, csrf: SessionCookie.csrf(for: token))
            do {
                return try await body(request, visitor)
            } catch {
                return errorPage(error, visitor: visitor, context: context)
            }
        }
    }

    private func page(_ body: @escaping @Sendable (Request, ViceRequestContext) async throws -> Response) -> Handler {
        { request, context in
            do {
                return try await body(request, context)
            } catch {
                return errorPage(error, visitor: nil, context: context)
            }
        }
    }

    func secure(_ request: Request) -> Bool {
        secureCookies || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    static func loginURL(for request: Request) -> String {
        let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        return "/ui/login?next=" + HTML.urlEncode(target)
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    static func asset(_ bytes: [UInt8], type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=300", .xContentTypeOptions: "nosniff"],
                 body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// An HTML page with the headers every page carries: no framing, no third-party anything.
    static func html(_ markup: HTML, status: HTTPResponse.Status = .ok) -> Response {
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8",
            .cacheControl: "no-store",
            .xContentTypeOptions: "nosniff",
            HTTPField.Name("Referrer-Policy")!: "same-origin",
            HTTPField.Name("X-Frame-Options")!: "DENY",
        ]
        headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
            + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: markup.text)))
    }

    func errorPage(_ error: any Error, visitor: Visitor?, context: ViceRequestContext) -> Response {
        let (status, message, isServerFault) = describeForCaller(error, requestID: context.id)
        if isServerFault { context.logger.error("dashboard page failed", metadata: ["error": "\(error)"]) }
        let body: HTML = """
            <h1>\(status.code == 404 ? "Not found" : "Something went wrong")</h1>
            <p role="alert" class="error">\(message)</p><p><a href="/ui/images">Back to the images</a></p>
            """
        return Self.html(Layout.page(title: "Error", visitor: visitor, body: body), status: status)
    }
}

/// Who is looking at a page.
struct Visitor: Sendable {
    let user: UserRecord
    /// The session token (the cookie's value).
    let session: String
    let csrf: String
}
