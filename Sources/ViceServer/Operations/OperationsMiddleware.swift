import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ViceCore

/// The operators' endpoints (GET and HEAD), as the OpenAPI document names them.
package enum OperationsRoute: String, CaseIterable, Sendable {
    case health = "/health"
    case ready = "/ready"
    case metrics = "/metrics"

    package var operationId: String {
        switch self {
        case .health: "getHealth"
        case .ready: "getReadiness"
        case .metrics: "getMetrics"
        }
    }
}

/// Answers `/health`, `/ready` and `/metrics` before anything else runs: no credentials of the
/// API (a scraper's bearer token is not an API token), no request log line per probe.
struct OperationsMiddleware: RouterMiddleware {
    typealias Context = ViceRequestContext
    let registry: Registry
    let options: OperationsOptions

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard let endpoint = OperationsRoute(rawValue: path) else { return try await next(request, context) }
        guard request.method == .get || request.method == .head else {
            return try ErrorMiddleware.response(status: .methodNotAllowed, kind: "invalidInput",
                                                message: "\(path) answers GET and HEAD only", context: context,
                                                headers: [.allow: "GET, HEAD"])
        }
        let response: Response
        switch endpoint {
        case .health: response = try JSONBody.response(["status": "ok"])
        case .ready: response = try await readiness()
        case .metrics: response = try await metrics(request, context)
        }
        guard request.method == .head else { return response }
        return Response(status: response.status, headers: response.headers, body: ResponseBody())
    }

    /// 200 when the database and the blob store answer and the workers run; 503 otherwise, with
    /// what failed (a load balancer then sends no traffic here).
    private func readiness() async throws -> Response {
        var checks = await registry.probeStores()
        let running = options.workersRunning()
        checks["workers"] = ProbeResult(ok: running, message: running ? nil : "the workers are not running")
        let ready = checks.values.allSatisfy(\.ok)
        struct Answer: Encodable { var status: String; var checks: [String: ProbeResult] }
        var response = try JSONBody.response(Answer(status: ready ? "ready" : "unready", checks: checks))
        if !ready { response.status = .serviceUnavailable }
        response.headers[.cacheControl] = "no-store"
        return response
    }

    private func metrics(_ request: Request, _ context: Context) async throws -> Response {
        switch options.metricsAccess {
        case .off:
            return try ErrorMiddleware.response(status: .notFound, kind: "notFound", message: "metrics are off (metrics.access)",
                                                context: context)
        case .open:
            break
        case .token(let expected):
            guard Registry.secretsMatch(request.headers[.authorization].flatMap(BasicAuthMiddleware.bearer), expected) else {
                return try ErrorMiddleware.response(status: .unauthorized, kind: "unauthorized",
                                                    message: "the metrics need the scrape token (Authorization: Bearer …)",
                                                    context: context, headers: [.wwwAuthenticate: "Bearer realm=\"vice-metrics\""])
            }
        }
        let text = await options.renderMetrics()
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
    }
}
