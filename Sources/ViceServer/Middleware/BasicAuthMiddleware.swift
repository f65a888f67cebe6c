import Foundation
import Hummingbird
import ViceCore

/// HTTP Basic authentication on every route but the public ones (the OpenAPI document, and
/// `POST /v1/user`, where credentials are optional and only checked when sent).
struct BasicAuthMiddleware: RouterMiddleware {
    typealias Context = ViceRequestContext
    let registry: Registry

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let route = APIRoute.match(method: request.method, path: request.uri.path)
        if let header = request.headers[.authorization] {
            guard let (username, password) = Self.parse(header) else {
                throw ViceError(.unauthorized, "the Authorization header is not valid HTTP Basic")
            }
            let principal = try await registry.authenticate(username: username, password: password, address: context.clientAddress)
            context.principal = principal
            context.logger[metadataKey: "user"] = "\(principal.id)"
        } else if route?.isPublic != true && route != nil {
            throw ViceError(.unauthorized, "authentication required (HTTP Basic)")
        }
        return try await next(request, context)
    }

    static func parse(_ header: String) -> (String, String)? {
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
              let data = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
              let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }
}
