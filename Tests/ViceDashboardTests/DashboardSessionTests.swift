import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import ViceCore
import ViceDashboard
import ViceServer
import ViceTestSupport

/// The dashboard's sessions and pages in process: cookies and their flags, CSRF on every form
/// and on the API calls a session makes, sign-out revoking the session, escaping, redirects that
/// stay on the registry, the headers every page carries.
@Suite struct DashboardSessionTests {
    struct Page {
        var status: Int
        var headers: HTTPFields
        var text: String
        var cookies: [String] { headers[values: .setCookie] }
        func cookie(_ name: String) -> String? {
            cookies.compactMap { header -> String? in
                let first = header.split(separator: ";").first.map(String.init) ?? ""
                guard first.hasPrefix(name + "=") else { return nil }
                return String(first.dropFirst(name.count + 1))
            }.first
        }
        func hidden(_ name: String) -> String? {
            guard let range = text.range(of: "name=\"\(name)\" value=\"") else { return nil }
            return String(text[range.upperBound...].prefix { $0 != "\"" })
        }
    }

    static func run(_ test: @escaping @Sendable (RegistryFixture, any TestClientProtocol) async throws -> Void) async throws {
        let fixture = try await RegistryFixture()
        _ = try await fixture.user("alice", admin: true)
        _ = try await fixture.user("bob")
        let router = ViceAPI(registry: fixture.registry).makeRouter()
        Dashboard(registry: fixture.registry, secureCookies: false).register(on: router)
        try await Application(router: router).test(.router) { client in try await test(fixture, client) }
    }

    static func send(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, cookie: String? = nil,
                     form: String? = nil, json: String? = nil, headers extra: HTTPFields = [:]) async throws -> Page {
        var headers = extra
        if let cookie { headers[.cookie] = cookie }
        if form != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        if json != nil { headers[.contentType] = "application/json" }
        let response = try await client.execute(uri: uri, method: method, headers: headers,
                                                body: (form ?? json).map { ByteBuffer(string: $0) })
        return Page(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
    }

    /// Signs in through the form; answers the session cookie's value.
    static func signIn(_ client: any TestClientProtocol, _ user: String, next: String = "%2Fui%2Fimages") async throws -> (session: String, page: Page) {
        let form = try await send(client, .get, "/ui/login")
        let csrf = try #require(form.hidden("csrf"))
        let login = try #require(form.cookie("vice_login"))
        let page = try await send(client, .post, "/ui/login", cookie: "vice_login=\(login)",
                                  form: "csrf=\(csrf)&next=\(next)&username=\(user)&password=\(RegistryFixture.password(of: user))")
        return (page.cookie(SessionCookie.name) ?? "", page)
    }

    @Test func signingInSetsAStrictSessionCookieAndSigningOutRevokesIt() async throws {
        try await Self.run { _, client in
            #expect(try await Self.send(client, .get, "/ui/images").headers[.location] == "/ui/login?next=%2Fui%2Fimages")
            // A form without the login cookie's token is refused.
            let forged = try await Self.send(client, .post, "/ui/login", form: "csrf=x&username=alice&password=\(RegistryFixture.password(of: "alice"))")
            #expect(forged.status == 403 && forged.cookie(SessionCookie.name) == nil)
            // The form is read up to 16 KiB: a larger body is refused, not held.
            let huge = try await Self.send(client, .post, "/ui/login", form: "username=alice&padding=" + String(repeating: "x", count: 20 << 10))
            #expect(huge.status == 413 && huge.cookie(SessionCookie.name) == nil, "\(huge.status) \(huge.text.prefix(300))")
            let wrong = try await Self.send(client, .get, "/ui/login")
            let refused = try await Self.send(client, .post, "/ui/login", cookie: "vice_login=\(wrong.cookie("vice_login") ?? "")",
                                              form: "csrf=\(wrong.hidden("csrf") ?? "")&username=alice&password=wrong")
            #expect(refused.status == 401 && refused.text.contains("Wrong user name or password") && refused.cookie(SessionCookie.name) == nil)

            let (session, signedIn) = try await Self.signIn(client, "alice")
            #expect(signedIn.status == 303 && signedIn.headers[.location] == "/ui/images")
            let flags = try #require(signedIn.cookies.first { $0.hasPrefix(SessionCookie.name + "=") })
            #expect(flags.contains("HttpOnly") && flags.contains("SameSite=Strict") && flags.contains("Path=/"))
            let page = try await Self.send(client, .get, "/ui/images", cookie: "\(SessionCookie.name)=\(session)")
            #expect(page.status == 200 && page.text.contains("<h1>Images</h1>"))
            let policy = page.headers[HTTPField.Name("Content-Security-Policy")!] ?? ""
            #expect(policy.contains("default-src 'none'") && policy.contains("script-src 'self'") && policy.contains("frame-ancestors 'none'"))
            #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")

            // Signing out needs the session's token; then the session is gone for the API too.
            let noToken = try await Self.send(client, .post, "/ui/logout", cookie: "\(SessionCookie.name)=\(session)", form: "csrf=nope")
            #expect(noToken.status == 403)
            #expect(try await Self.send(client, .get, "/v1/user", cookie: "\(SessionCookie.name)=\(session)").status == 200)
            let out = try await Self.send(client, .post, "/ui/logout", cookie: "\(SessionCookie.name)=\(session)",
                                          form: "csrf=\(SessionCookie.csrf(for: session))")
            #expect(out.status == 303 && out.cookies.contains { $0.hasPrefix(SessionCookie.name + "=;") && $0.contains("Max-Age=0") })
            #expect(try await Self.send(client, .get, "/v1/user", cookie: "\(SessionCookie.name)=\(session)").status == 401)
            #expect(try await Self.send(client, .get, "/ui/images", cookie: "\(SessionCookie.name)=\(session)").status == 303)
        }
    }

    @Test func aSessionChangesNothingThroughTheAPIWithoutItsCSRFToken() async throws {
        try await Self.run { _, client in
            let (session, _) = try await Self.signIn(client, "bob")
            let cookie = "\(SessionCookie.name)=\(session)"
            let body = #"{"title": "from the dashboard", "contenttype": "disk-raw"}"#
            #expect(try await Self.send(client, .get, "/v1/images", cookie: cookie).status == 200, "reading needs no token")
            let bare = try await Self.send(client, .post, "/v1/images", cookie: cookie, json: body)
            #expect(bare.status == 403 && bare.text.contains(SessionCookie.csrfHeader))
            let wrong = try await Self.send(client, .post, "/v1/images", cookie: cookie, json: body,
                                            headers: [HTTPField.Name(SessionCookie.csrfHeader)!: SessionCookie.csrf(for: "another session")])
            #expect(wrong.status == 403)
            let right = try await Self.send(client, .post, "/v1/images", cookie: cookie, json: body,
                                            headers: [HTTPField.Name(SessionCookie.csrfHeader)!: SessionCookie.csrf(for: session)])
            #expect(right.status == 201)
            // A session is bob's: no admin route.
            #expect(try await Self.send(client, .get, "/v1/users", cookie: cookie).status == 403)
            #expect(try await Self.send(client, .get, "/ui/admin", cookie: cookie).status == 403)
        }
    }

    @Test func pagesEscapeWhatUsersTypedAndRedirectOnlyWithinTheDashboard() async throws {
        try await Self.run { fixture, client in
            let (session, _) = try await Self.signIn(client, "alice")
            let cookie = "\(SessionCookie.name)=\(session)"
            let csrf: HTTPFields = [HTTPField.Name(SessionCookie.csrfHeader)!: SessionCookie.csrf(for: session)]
            let created = try await Self.send(client, .post, "/v1/images", cookie: cookie,
                                              json: #"{"title": "<script>alert('x')</script>\"><img src=x>", "contenttype": "disk-raw"}"#, headers: csrf)
            #expect(created.status == 201)
            for path in ["/ui/images", "/ui/images?q=%3Cscript%3E", "/ui/jobs", "/ui/admin"] {
                let page = try await Self.send(client, .get, path, cookie: cookie)
                #expect(page.status == 200, "\(path)")
                #expect(!page.text.contains("<script>alert") && !page.text.contains("<img src=x>"), "\(path) escapes the title")
            }
            // A quote followed by a combining mark is one Character but still a quote to a browser.
            let combining = try await Self.send(client, .post, "/v1/images", cookie: cookie,
                                                json: "{\"title\": \"x\\\"\u{0301} data-method=DELETE z\", \"contenttype\": \"disk-raw\"}", headers: csrf)
            #expect(combining.status == 201)
            let search = try await Self.send(client, .get, "/ui/images?q=%22%CC%81%20autofocus", cookie: cookie)
            #expect(!search.text.contains("\"\u{0301} autofocus") && search.text.contains("&quot;\u{0301} autofocus"), "a reflected query stays in its attribute")
            let list = try await Self.send(client, .get, "/ui/images", cookie: cookie)
            #expect(!list.text.contains("x\"\u{0301} data-method") && list.text.contains("x&quot;\u{0301} data-method"))
            #expect(list.text.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&gt;&lt;img src=x&gt;"))
            for next in ["%2F%2Fevil.example%2F", "https%3A%2F%2Fevil.example%2F", "%2Fui%2F..%5C%5Cevil", "javascript%3Aalert(1)"] {
                let (_, page) = try await Self.signIn(client, "alice", next: next)
                #expect(page.headers[.location] == "/ui/images", "next=\(next) stays on the dashboard")
            }
            let (_, kept) = try await Self.signIn(client, "alice", next: "%2Fui%2Fjobs")
            #expect(kept.headers[.location] == "/ui/jobs")
            _ = fixture
        }
    }
}
