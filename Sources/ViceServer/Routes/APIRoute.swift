package import Hummingbird
package import ViceCore

/// Every operation of the control API, in one table with its handler: the router registers from
/// it and a test checks it against the OpenAPI document, so neither can drift from the other.
package struct APIRoute: Sendable {
    package let method: HTTPRequest.Method
    /// The path in OpenAPI form: `/v1/image/{imageId}`.
    package let path: String
    /// The seed's operation id (`createEnvironment`, `findImages`, …).
    package let operationId: String
    /// Served without credentials.
    package let isPublic: Bool
    /// The least token scope that may call it: reads need `read`, changes `deploy`.
    package let scope: TokenScope
    /// What answers it, given the API.
    let handler: @Sendable (ViceAPI) -> ViceAPI.Handler
    /// `path` cut at its slashes once, for matching requests.
    let segments: [Substring]

    init(_ method: HTTPRequest.Method, _ path: String, _ operationId: String, isPublic: Bool = false, scope: TokenScope? = nil,
         _ handler: @escaping @Sendable (ViceAPI) -> ViceAPI.Handler) {
        self.method = method
        self.path = path
        self.segments = path.split(separator: "/", omittingEmptySubsequences: false)
        self.operationId = operationId
        self.handler = handler
        self.isPublic = isPublic
        self.scope = scope ?? (method == .get ? .read : .deploy)
    }

    package static let all: [APIRoute] = [
        APIRoute(.post, "/v1/environments", "createEnvironment") { $0.createEnvironment },
        APIRoute(.get, "/v1/environments", "findEnvironment") { $0.findEnvironments },
        APIRoute(.put, "/v1/environments", "updateEnvironment") { $0.updateEnvironment },
        APIRoute(.get, "/v1/environment/{environmentId}", "getEnvironment") { $0.getEnvironment },
        APIRoute(.delete, "/v1/environment/{environmentId}", "deleteEnvironment") { $0.deleteEnvironment },
        APIRoute(.post, "/v1/images", "createImage") { $0.createImage },
        APIRoute(.get, "/v1/images", "findImages") { $0.findImages },
        APIRoute(.put, "/v1/images", "updateImage") { $0.updateImage },
        APIRoute(.get, "/v1/image/{imageId}", "getImage") { $0.getImage },
        APIRoute(.delete, "/v1/image/{imageId}", "deleteImage") { $0.deleteImage },
        APIRoute(.post, "/v1/image/{imageId}/file", "uploadImage") { $0.uploadImage },
        APIRoute(.get, "/v1/image/{imageId}/file", "downloadImage") { $0.downloadImage },
        APIRoute(.post, "/v1/image/{imageId}/import", "importImage") { $0.importImage },
        APIRoute(.post, "/v1/deploy", "deployImage") { $0.deployImage },
        APIRoute(.get, "/v1/deployments", "findDeployments") { $0.findDeployments },
        APIRoute(.get, "/v1/deployment/{deploymentId}", "getDeployment") { $0.getDeployment },
        APIRoute(.delete, "/v1/deployment/{deploymentId}", "deleteDeployment") { $0.deleteDeployment },
        APIRoute(.get, "/v1/environment/{environmentId}/health", "getEnvironmentHealth") { $0.getEnvironmentHealth },
        APIRoute(.get, "/v1/environment/{environmentId}/images", "findEnvironmentImages") { $0.findEnvironmentImages },
        APIRoute(.get, "/v1/adapters", "findAdapters") { $0.findAdapters },
        APIRoute(.get, "/v1/runtimestats", "getRuntimeStats") { $0.getRuntimeStats },
        APIRoute(.post, "/v1/user", "createUser", isPublic: true) { $0.createUser },
        APIRoute(.get, "/v1/user", "getUser") { $0.getUser },
        APIRoute(.post, "/v1/user/tokens", "createToken") { $0.createToken },
        APIRoute(.get, "/v1/user/tokens", "findTokens") { $0.findTokens },
        APIRoute(.delete, "/v1/user/tokens/{tokenId}", "deleteToken") { $0.deleteToken },
        APIRoute(.get, "/v1/audit", "findAuditEntries", scope: .admin) { $0.findAuditEntries },
        APIRoute(.get, "/v1/users", "findUsers", scope: .admin) { $0.findUsers },
        APIRoute(.put, "/v1/user/{userId}", "updateUser", scope: .admin) { $0.updateUser },
        APIRoute(.delete, "/v1/user/{userId}", "deleteUser", scope: .admin) { $0.deleteUser },
        APIRoute(.get, "/v1/jobs", "findJobs") { $0.findJobs },
        APIRoute(.get, "/v1/jobs/{jobId}", "getJob") { $0.getJob },
        APIRoute(.delete, "/v1/jobs/{jobId}", "cancelJob") { $0.cancelJob },
        APIRoute(.post, "/v1/jobs/{jobId}/retry", "retryJob") { $0.retryJob },
        APIRoute(.get, "/v1/events", "streamEvents") { $0.streamEvents },
        APIRoute(.post, "/v1/webhooks", "createWebhook") { $0.createWebhook },
        APIRoute(.get, "/v1/webhooks", "findWebhooks") { $0.findWebhooks },
        APIRoute(.get, "/v1/webhooks/{webhookId}", "getWebhook") { $0.getWebhook },
        APIRoute(.delete, "/v1/webhooks/{webhookId}", "deleteWebhook") { $0.deleteWebhook },
        APIRoute(.get, "/v1/webhooks/{webhookId}/deliveries", "findWebhookDeliveries") { $0.findWebhookDeliveries },
        APIRoute(.get, "/v1/openapi.json", "getOpenAPIDocument", isPublic: true) { $0.getOpenAPIDocument },
    ]

    /// The path in Hummingbird's form: `/v1/image/:imageId`.
    var routerPath: String {
        segments.map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : segment
        }.joined(separator: "/")
    }

    /// Among `routes` (of one path), the one for `method`; HEAD is the GET route's.
    static func route(for method: HTTPRequest.Method, among routes: [APIRoute]) -> APIRoute? {
        let method = method == .head ? .get : method
        return routes.first { $0.method == method }
    }

    /// Every route of the path template `path` fits best, whatever its method. Literal segments
    /// win over parameters, as in the router: `/v1/user/tokens` is that path, not
    /// `/v1/user/{userId}` with the id "tokens".
    static func routes(forPath path: String) -> [APIRoute] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        let fitting = all.filter { route in
            guard route.segments.count == segments.count else { return false }
            return zip(route.segments, segments).allSatisfy { pattern, segment in
                pattern.hasPrefix("{") ? !segment.isEmpty : pattern == segment
            }
        }
        guard let best = fitting.max(by: { $0.literalSegments < $1.literalSegments }) else { return [] }
        return fitting.filter { $0.path == best.path }
    }

    /// How many segments of the template are fixed text.
    var literalSegments: Int { segments.filter { !$0.hasPrefix("{") }.count }
}
