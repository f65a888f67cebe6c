import Foundation
import Hummingbird
import ViceCore
import ViceServer

extension Dashboard {
    /// Search, filters and pages of the images the visitor may see; a form that makes a record
    /// and uploads a file into it.
    func imagesPage(_ request: Request, _ visitor: Visitor) async throws -> Response {
        let query = Query(request: request)
        let text = query.string("q")
        let status = query.string("status").flatMap(ImageStatus.init(rawValue:))
        let type = query.string("contenttype").flatMap(ContentType.init(rawValue:))
        let visibility = query.string("visibility").flatMap(ImageVisibility.init(rawValue:))
        let page = try await registry.images(owner: visitor.user, query: ImageQuery(
            page: PageRequest(limit: 25, marker: query.string("marker")), text: text, contenttype: type, status: status,
            visibility: visibility))
        let rows: [[HTML]] = page.items.map { image in
            [HTML("<a href=\"/ui/images/\(image.id ?? "")\">\(image.title ?? image.id ?? "?")</a>"),
             HTML("\(image.contenttype?.rawValue ?? "—")"),
             HTML("<span data-image-status=\"\(image.id ?? "")\">\(Markup.status(image.status?.rawValue))</span>"),
             HTML("\(Markup.bytes(image.size))"), HTML("\(image.visibility?.rawValue ?? "private")"),
             HTML("\(Markup.date(image.createdAt))")]
        }
        func options<E: RawRepresentable & CaseIterable>(_ type: E.Type) -> [(value: String, label: String)] where E.RawValue == String {
            [("", "any")] + E.allCases.map { ($0.rawValue, $0.rawValue) }
        }
        let nextLink = Markup.nextPage(page.nextLink(for: request))
        let contentTypes = ContentType.allCases.map { (value: $0.rawValue, label: $0.rawValue) }
        let body: HTML = """
            <h1>Images</h1>
            <form method="get" action="/ui/images" class="filters" role="search">
            \(Markup.field("Search", name: "q", value: text, type: "search"))
            \(Markup.select("Status", name: "status", options: options(ImageStatus.self), selected: status?.rawValue))
            \(Markup.select("Content type", name: "contenttype", options: options(ContentType.self), selected: type?.rawValue))
            \(Markup.select("Visibility", name: "visibility", options: options(ImageVisibility.self), selected: visibility?.rawValue))
            <button type="submit">Search</button>
            </form>
            \(Markup.table(caption: "Images", headers: ["Title", "Type", "Status", "Size", "Visibility", "Created"], rows: rows,
                           empty: "No images match."))
            \(nextLink)
            <section aria-labelledby="upload-title" class="card">
            <h2 id="upload-title">Upload a file</h2>
            <form id="upload-form" data-upload>
            \(Markup.field("Title", name: "title", required: true, id: "upload-title-field"))
            \(Markup.select("Content type", name: "contenttype", options: contentTypes, selected: "disk-raw", id: "upload-type"))
            <label for="upload-file">File (required)</label><input id="upload-file" name="file" type="file" required>
            <button type="submit" class="primary">Upload</button>
            <progress id="upload-progress" max="100" value="0" hidden aria-label="Upload progress"></progress>
            <output id="upload-status" aria-live="polite"></output>
            </form>
            </section>
            """
        return Self.html(Layout.page(title: "Images", visitor: visitor, current: "/ui/images", body: body))
    }

    /// One image: what it is, where it came from, who sees it, its deployments; deploy it.
    func imagePage(_ request: Request, _ visitor: Visitor) async throws -> Response {
        let id = request.uri.path.split(separator: "/").last.map(String.init) ?? ""
        guard IDGenerator.isPlausible(id) else { throw ViceError.notFound("image \(id) not found") }
        let image = try await registry.image(id: id, owner: visitor.user)
        let environments = try await registry.environments(owner: visitor.user, filter: EnvironmentFilter())
        var deployments: [Deployment] = []
        var marker: String?
        repeat {
            let page = try await registry.deployments(owner: visitor.user, page: PageRequest(limit: PageRequest.maximumLimit, marker: marker))
            deployments += page.items.filter { $0.imageid == id }
            marker = page.nextMarker
        } while marker != nil
        let names = Dictionary(environments.compactMap { env in env.id.map { ($0, env.title ?? $0) } }, uniquingKeysWith: { a, _ in a })
        let origin = image.originEnvironment.map { env in
            HTML("<a href=\"/ui/environments/\(env.id ?? "")\">\(env.title ?? env.id ?? "?")</a> (\(env.managementlayer?.software ?? "?"))")
        } ?? "uploaded"
        let facts: [(String, HTML)] = [
            ("Id", "<code>\(id)</code>"), ("Status", "<span data-image-status=\"\(id)\">\(Markup.status(image.status?.rawValue))</span>"),
            ("Message", "\(image.statusMessage ?? "—")"), ("Content type", "\(image.contenttype?.rawValue ?? "—")"),
            ("Size", "\(Markup.bytes(image.size))"), ("Checksum", "<code class=\"wrap\">\(image.checksum ?? "—")</code>"),
            ("Origin", origin), ("Reference", "\(image.environmentReference ?? "—")"),
            ("Visibility", "\(image.visibility?.rawValue ?? "private")"),
            ("Members", "\((image.members ?? []).isEmpty ? "—" : (image.members ?? []).joined(separator: ", "))"),
            ("Created", "\(Markup.date(image.createdAt))"), ("Updated", "\(Markup.date(image.updatedAt))"),
        ]
        let list = facts.map { HTML("<dt>\($0.0)</dt><dd>\($0.1)</dd>") }
        let rows: [[HTML]] = deployments.map { deployment in
            [HTML("\(names[deployment.environmentId ?? ""] ?? deployment.environmentId ?? "?")"),
             HTML("<span data-deployment-status=\"\(deployment.id ?? "")\">\(Markup.status(deployment.status?.rawValue))</span>"),
             HTML("\(deployment.environmentReference ?? "—")"), HTML("\(Markup.date(deployment.createdAt))")]
        }
        let targets = environments.compactMap { env in env.id.map { (value: $0, label: "\(env.title ?? $0) (\(env.managementlayer?.software ?? "?"))") } }
        let job: HTML = image.jobId.map { HTML("<p>Last job: <a href=\"/ui/jobs#job-\($0)\">\($0)</a> <span data-job-line=\"\($0)\"></span></p>") } ?? ""
        let download: HTML = image.status == .active ? HTML("<a class=\"button\" href=\"/v1/image/\(id)/file\" download>Download</a>") : ""
        let body: HTML = """
            <h1>\(image.title ?? id)</h1>
            <dl class="facts">\(list)</dl>
            \(job)
            <p class="actions">\(download)
            \(Markup.apiButton("Delete image", method: "DELETE", path: "/v1/image/\(id)", confirm: "Delete this image and its bytes?", then: "/ui/images", style: "danger"))</p>
            <section aria-labelledby="deploy-title" class="card">
            <h2 id="deploy-title">Deploy</h2>
            <form data-deploy="\(id)">
            \(targets.isEmpty ? HTML("<p>No environment yet: <a href=\"/ui/environments\">add one</a>.</p>") : Markup.select("Environment", name: "environmentId", options: targets, id: "deploy-environment"))
            <button type="submit" class="primary"\(HTML(raw: targets.isEmpty ? " disabled" : ""))>Deploy</button>
            <progress id="deploy-progress" max="100" value="0" hidden aria-label="Deployment progress"></progress>
            <output id="deploy-status" aria-live="polite"></output>
            </form>
            </section>
            <h2>Deployments of this image</h2>
            \(Markup.table(caption: "Deployments of this image", headers: ["Environment", "Status", "Reference", "Created"], rows: rows,
                           empty: "Not deployed anywhere."))
            """
        return Self.html(Layout.page(title: image.title ?? id, visitor: visitor, current: "/ui/images", body: body))
    }
}
