import HTTPTypes
import Hummingbird

/// CORS for a fixed list of origins: a listed origin gets its own name back in
/// `Access-Control-Allow-Origin` (and preflights are answered); any other gets no CORS headers,
/// so browsers keep its pages from reading answers.
struct CORSAllowList: RouterMiddleware {
    typealias Context = ViceRequestContext
    let origins: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], origins.contains(origin.lowercased()) else {
            return try await next(request, context)
        }
        var headers: HTTPFields = [.accessControlAllowOrigin: origin, .vary: "Origin"]
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            headers[.accessControlAllowMethods] = "GET, POST, PUT, DELETE"
            headers[.accessControlAllowHeaders] = "Authorization, Content-Type, Accept"
            headers[.accessControlMaxAge] = "600"
            return Response(status: .noContent, headers: headers)
        }
        var response = try await next(request, context)
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.vary] = "Origin"
        return response
    }
}
