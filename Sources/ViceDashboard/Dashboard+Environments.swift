import Foundation
import Hummingbird
import ViceCore
import ViceServer

extension Dashboard {
    /// What each adapter wants in the form, for people who do not read docs/adapters.md first.
    static let adapterHints: [String: (location: String, specifics: String)] = [
        "openstack": ("The Keystone v3 URL, such as https://keystone.uni.example:5000/v3; a Keystone user and password.",
                      #"{"tenant": "project name", "region": "RegionOne", "domain": "Default"}"#),
        "docker": ("tcp://host:2376 (with TLS) or, for admins, unix:///var/run/docker.sock.",
                   #"{"tls": true, "caBundle": "…"}"#),
        "bwlehrpool": ("The satellite, host:port; a master account's user name and password.", #"{"masterHost": "…"}"#),
        "memory": ("Any name: the in-memory cloud of that name (demos and tests).", "{}"),
    ]

    func environmentsPage(_ request: Request, _ visitor: Visitor) async throws -> Response {
        let environments = try await registry.environments(owner: visitor.user, filter: EnvironmentFilter())
        let rows: [[HTML]] = environments.map { env in
            [HTML("<a href=\"/ui/environments/\(env.id ?? "")\">\(env.title ?? env.id ?? "?")</a>"),
             HTML("\(env.managementlayer?.software ?? "—")"), HTML("\(env.credentials?.location ?? "—")"),
             HTML("\(env.readOnly == true ? "declared" : "registered")")]
        }
        let kinds = registry.adapters().map(\.kind).sorted()
        let hints = kinds.map { kind in
            let hint = Self.adapterHints[kind]
            return HTML("<li data-kind=\"\(kind)\"><strong>\(kind)</strong>: \(hint?.location ?? "see the adapter's documentation.") Specifics: <code>\(hint?.specifics ?? "{}")</code></li>")
        }
        let body: HTML = """
            <h1>Environments</h1>
            \(Markup.table(caption: "Environments you may use", headers: ["Title", "Software", "Location", "Kind"], rows: rows,
                           empty: "No environments yet."))
            <section aria-labelledby="create-title" class="card">
            <h2 id="create-title">Add an environment</h2>
            <form data-method="POST" data-path="/v1/environments" data-then="/ui/environments/{id}" id="environment-form">
            \(Markup.field("Title", name: "title", required: true))
            \(Markup.select("Software", name: "managementlayer.software", options: kinds.map { ($0, $0) }, selected: kinds.first))
            \(Markup.field("Location", name: "credentials.location", required: true, hint: "Where it is: see the notes below for each kind."))
            \(Markup.field("User name", name: "credentials.username"))
            \(Markup.field("Password", name: "credentials.password", type: "password", hint: "Kept encrypted; never shown again."))
            <label for="f-specifics">Specifics (JSON)</label>
            <textarea id="f-specifics" name="credentials.specifics" data-json rows="3" aria-describedby="kind-hints">{}</textarea>
            <ul id="kind-hints" class="hints">\(hints)</ul>
            <button type="submit" class="primary">Add</button>
            </form>
            </section>
            """
        return Self.html(Layout.page(title: "Environments", visitor: visitor, current: "/ui/environments", body: body))
    }

    /// One environment: its settings (never the password), its health on request, and what it
    /// offers for import.
    func environmentPage(_ request: Request, _ visitor: Visitor) async throws -> Response {
        let id = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
        guard IDGenerator.isPlausible(id) else { throw ViceError.notFound("environment \(id) not found") }
        let environment = try await registry.environment(id: id, owner: visitor.user)
        var offered: HTML
        do {
            let images = try await registry.environmentImages(id: id, owner: visitor.user)
            let rows: [[HTML]] = images.map { image in
                [HTML("<code>\(image.reference)</code>"), HTML("\(image.title ?? "—")"), HTML("\(image.contenttype?.rawValue ?? "—")"),
                 HTML("\(Markup.bytes(image.size))"),
                 HTML("""
                     <button type="button" data-import="\(image.reference)" data-environment="\(id)" data-title="\(image.title ?? image.reference)">Import</button>
                     """)]
            }
            offered = Markup.table(caption: "Images this environment offers", headers: ["Reference", "Title", "Type", "Size", ""],
                                   rows: rows, empty: "This environment offers no images.")
        } catch {
            offered = "<p class=\"error\" role=\"alert\">\(describeForCaller(error, requestID: "").message)</p>"
        }
        let facts: [(String, HTML)] = [
            ("Id", "<code>\(id)</code>"), ("Software", "\(environment.managementlayer?.software ?? "—")"),
            ("Location", "\(environment.credentials?.location ?? "—")"), ("User name", "\(environment.credentials?.username ?? "—")"),
            ("Declared in the configuration", "\(environment.readOnly == true ? "yes" : "no")"),
            ("Created", "\(Markup.date(environment.createdAt))"),
        ]
        let delete: HTML = environment.readOnly == true ? "" :
            Markup.apiButton("Remove from the registry", method: "DELETE", path: "/v1/environment/\(id)",
                             confirm: "Remove this environment from the registry?", then: "/ui/environments", style: "danger")
        let body: HTML = """
            <h1>\(environment.title ?? id)</h1>
            <dl class="facts">\(facts.map { HTML("<dt>\($0.0)</dt><dd>\($0.1)</dd>") })</dl>
            <p class="actions"><button type="button" data-health="\(id)">Check health</button>
            <output id="health-status" aria-live="polite"></output> \(delete)</p>
            <h2>Importable images</h2>
            \(offered)
            <output id="import-status" aria-live="polite"></output>
            """
        return Self.html(Layout.page(title: environment.title ?? id, visitor: visitor, current: "/ui/environments", body: body))
    }
}
