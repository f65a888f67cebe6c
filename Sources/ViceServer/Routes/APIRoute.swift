import Hummingbird
import ViceCore

/// Every operation of the control API, in one table: the router registers from it and a test
/// checks it against the OpenAPI document, so neither can drift from the other.
public struct APIRoute: Sendable, Hashable {
    public let method: HTTPRequest.Method
    /// The path in OpenAPI form: `/v1/image/{imageId}`.
    public let path: String
    /// The seed's operation id (`createEnvironment`, `findImages`, …).
    public let operationId: String
    /// Served without credentials.
    public let isPublic: Bool
    /// The least token scope that may call it: reads need `read`, changes `deploy`.
    public let scope: TokenScope

    init(_ method: HTTPRequest.Method, _ path: String, _ operationId: String, isPublic: Bool = false, scope: TokenScope? = nil) {
        self.method = method
        self.path = path
        self.operationId = operationId
        self.isPublic = isPublic
        self.scope = scope ?? (method == .get ? .read : .deploy)
    }

    public static let all: [APIRoute] = [
        APIRoute(.post, "/v1/environments", "createEnvironment"),
        APIRoute(.get, "/v1/environments", "findEnvironment"),
        APIRoute(.put, "/v1/environments", "updateEnvironment"),
        APIRoute(.get, "/v1/environment/{environmentId}", "getEnvironment"),
        APIRoute(.delete, "/v1/environment/{environmentId}", "deleteEnvironment"),
        APIRoute(.post, "/v1/images", "createImage"),
        APIRoute(.get, "/v1/images", "findImages"),
        APIRoute(.put, "/v1/images", "updateImage"),
        APIRoute(.get, "/v1/image/{imageId}", "getImage"),
        APIRoute(.delete, "/v1/image/{imageId}", "deleteImage"),
        APIRoute(.post, "/v1/image/{imageId}/file", "uploadImage"),
        APIRoute(.get, "/v1/image/{imageId}/file", "downloadImage"),
        APIRoute(.post, "/v1/deploy", "deployImage"),
        APIRoute(.get, "/v1/deployments", "findDeployments"),
        APIRoute(.get, "/v1/deployment/{deploymentId}", "getDeployment"),
        APIRoute(.delete, "/v1/deployment/{deploymentId}", "deleteDeployment"),
        APIRoute(.get, "/v1/environment/{environmentId}/health", "getEnvironmentHealth"),
        APIRoute(.get, "/v1/environment/{environmentId}/images", "findEnvironmentImages"),
        APIRoute(.get, "/v1/adapters", "findAdapters"),
        APIRoute(.get, "/v1/runtimestats", "getRuntimeStats"),
        APIRoute(.post, "/v1/user", "createUser", isPublic: true),
        APIRoute(.get, "/v1/user", "getUser"),
        APIRoute(.post, "/v1/user/tokens", "createToken"),
        APIRoute(.get, "/v1/user/tokens", "findTokens"),
        APIRoute(.delete, "/v1/user/tokens/{tokenId}", "deleteToken"),
        APIRoute(.get, "/v1/audit", "findAuditEntries", scope: .admin),
        APIRoute(.get, "/v1/users", "findUsers", scope: .admin),
        APIRoute(.put, "/v1/user/{userId}", "updateUser", scope: .admin),
        APIRoute(.delete, "/v1/user/{userId}", "deleteUser", scope: .admin),
        APIRoute(.get, "/v1/openapi.json", "getOpenAPIDocument", isPublic: true),
    ]

    /// The path in Hummingbird's form: `/v1/image/:imageId`.
    var routerPath: String {
        path.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : segment
        }.joined(separator: "/")
    }

    /// The route a request is for, if any.
    static func match(method: HTTPRequest.Method, path: String) -> APIRoute? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return all.first { route in
            guard route.method == method else { return false }
            let template = route.path.split(separator: "/", omittingEmptySubsequences: false)
            guard template.count == segments.count else { return false }
            return zip(template, segments).allSatisfy { pattern, segment in
                pattern.hasPrefix("{") ? !segment.isEmpty : pattern == segment
            }
        }
    }
}
