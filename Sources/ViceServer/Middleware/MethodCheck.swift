import HTTPTypes
import Hummingbird
import ViceCore

/// A known path asked with a method it does not have: 405 with `Allow` (RFC 9110 §15.5.6), before
/// anything looks at credentials — the methods of a path are public in the OpenAPI document.
/// `OPTIONS` answers 204 with `Allow`. `HEAD` goes on to the router wherever `GET` is served.
/// The route found is kept in the context for the middleware after (authentication, audit).
struct MethodCheck: RouterMiddleware {
    typealias Context = ViceRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let routes = context.pathRoutes ?? APIRoute.routes(forPath: request.uri.path)
        if let route = APIRoute.route(for: request.method, among: routes) {
            // Every query parameter of the API takes one value (lists are comma-separated): one
            // given twice is refused, not half-read.
            var names: Set<Substring> = []
            for (name, _) in request.uri.queryParameters where !names.insert(name).inserted {
                throw ViceError.invalidInput("the query parameter '\(RemoteText.excerpt(String(name), limit: 64))' is given more than once")
            }
            var context = context
            context.route = route
            return try await next(request, context)
        }
        guard !routes.isEmpty else { return try await next(request, context) }
        let methods = routes.map(\.method)
        let allow = Self.allowHeader(methods)
        if request.method == .options {
            return Response(status: .noContent, headers: [.allow: allow])
        }
        throw MethodNotAllowed(method: request.method, path: routes[0].path, allow: allow)
    }

    /// The methods in the order of the API table, HEAD after GET, OPTIONS last.
    static func allowHeader(_ methods: [HTTPRequest.Method]) -> String {
        var names: [String] = []
        for method in methods where !names.contains(method.rawValue) {
            names.append(method.rawValue)
            if method == .get { names.append("HEAD") }
        }
        return (names + ["OPTIONS"]).joined(separator: ", ")
    }
}

/// The answer for a method a path does not have.
struct MethodNotAllowed: RendersAPIError {
    var method: HTTPRequest.Method
    var path: String
    var allow: String

    var answer: ErrorAnswer {
        ErrorAnswer(status: .methodNotAllowed, kind: "methodNotAllowed",
                    message: "\(path) does not take \(method.rawValue); it takes \(allow)", headers: [.allow: allow])
    }
}
