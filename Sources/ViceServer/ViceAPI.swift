import Foundation
import HTTPTypes
package import Hummingbird
import Logging
package import ViceCore

/// The HTTP control API of the seed spec over a `Registry`.
package struct ViceAPI: Sendable {
    let registry: Registry
    /// The largest image file `POST /v1/image/{id}/file` accepts.
    let maxUploadBytes: Int64
    let fileIO = FileIO()
    /// Uploads in flight, bounded per user and in all.
    let uploads: UploadAdmission

    /// Origins whose pages may call the API from a browser (`server.corsOrigins`).
    let corsOrigins: Set<String>
    /// `/health`, `/ready` and `/metrics`.
    let operations: OperationsOptions

    package init(registry: Registry, maxUploadBytes: Int64 = 1 << 40, uploadsPerUser: Int = 4, uploadsInTotal: Int = 32,
                corsOrigins: [String] = [], operations: OperationsOptions = OperationsOptions()) {
        self.registry = registry
        self.operations = operations
        self.corsOrigins = Set(corsOrigins.map { $0.lowercased() })
        self.maxUploadBytes = maxUploadBytes
        self.uploads = UploadAdmission(perUser: uploadsPerUser, total: uploadsInTotal)
    }

    /// A router with every route of `APIRoute.all` and the middleware chain: CORS, the operators'
    /// endpoints, request log, request metrics, JSON errors, 405 for methods a path does not
    /// have, authentication, audit.
    package func makeRouter() -> Router<ViceRequestContext> {
        let router = Router(context: ViceRequestContext.self)
        // Cross-origin requests only from the origins the configuration lists (none by default).
        if !corsOrigins.isEmpty {
            router.add(middleware: CORSAllowList(origins: corsOrigins))
        }
        router.add(middleware: OperationsMiddleware(registry: registry, options: operations))
        router.add(middleware: RequestLogMiddleware())
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: ErrorMiddleware())
        router.add(middleware: MethodCheck())
        router.add(middleware: BasicAuthMiddleware(registry: registry))
        router.add(middleware: AuditMiddleware(registry: registry))
        for route in APIRoute.all {
            let handler = route.handler(self)
            router.on(RouterPath(route.routerPath), method: route.method, use: handler)
            if route.method == .get {
                router.on(RouterPath(route.routerPath), method: .head, use: Self.head(of: handler))
            }
        }
        return router
    }

    typealias Handler = @Sendable (Request, ViceRequestContext) async throws -> Response

    /// HEAD for a GET route: the same status and headers (`Content-Length`, `ETag`, …), no body.
    static func head(of get: @escaping Handler) -> Handler {
        { request, context in
            let response = try await get(request, context)
            return Response(status: response.status, headers: response.headers, body: ResponseBody())
        }
    }

    /// A path parameter, checked to look like an id (anything else cannot exist: 404).
    static func pathID(_ name: String, _ context: ViceRequestContext, kind: String) throws -> String {
        let id = context.parameters.get(name) ?? ""
        guard IDGenerator.isPlausible(id) else { throw ViceError.notFound("\(kind) \(id) not found") }
        return id
    }
}

/// Query parameters, validated.
package struct Query {
    let request: Request

    package init(request: Request) {
        self.request = request
    }

    /// A parameter's value; an empty one counts as absent.
    package func string(_ name: String) -> String? {
        request.uri.queryParameters.get(name).flatMap { $0.isEmpty ? nil : $0 }
    }

    func page() throws -> PageRequest {
        // Without a limit a page still has the maximum size: no list answer is unbounded.
        var page = PageRequest(limit: PageRequest.maximumLimit, marker: string("marker"))
        if let text = string("limit") {
            guard let limit = Int(text), (1...PageRequest.maximumLimit).contains(limit) else {
                throw ViceError.invalidInput("limit must be a whole number between 1 and \(PageRequest.maximumLimit)")
            }
            page.limit = limit
        }
        return page
    }

    func enumValue<E: RawRepresentable & CaseIterable>(_ name: String, _ type: E.Type) throws -> E? where E.RawValue == String {
        guard let text = string(name) else { return nil }
        guard let value = E(rawValue: text) else {
            throw ViceError.invalidInput("\(name) must be one of: \(E.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}

extension Page {
    /// `Link: <…>; rel="next"` and `X-Next-Marker` for a page that has a successor.
    func headers(for request: Request) -> HTTPFields {
        guard let nextMarker else { return [:] }
        var headers: HTTPFields = [:]
        if let link = nextLink(for: request) {
            headers[HTTPField.Name("Link")!] = "<\(link)>; rel=\"next\""
        }
        headers[HTTPField.Name("X-Next-Marker")!] = nextMarker
        return headers
    }

    /// The request's path and query with `marker` set to the next page's (nil on the last page):
    /// the API's `Link` header, and the dashboard's "Next page".
    package func nextLink(for request: Request) -> String? {
        guard let nextMarker else { return nil }
        var items = request.uri.queryParameters.filter { $0.key != "marker" }.map { (String($0.key), String($0.value)) }
        items.append(("marker", nextMarker))
        var components = URLComponents()
        components.path = request.uri.path
        components.queryItems = items.map { URLQueryItem(name: $0.0, value: $0.1) }
        // A literal `+` is a space to form decoders: sent encoded, it means itself everywhere.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        return components.string
    }
}
