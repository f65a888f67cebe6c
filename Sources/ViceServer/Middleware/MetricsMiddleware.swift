import CoreMetrics
import Hummingbird
import ViceCore

/// Counts every API request by method, route (the path template, so ids make no new series) and
/// status, and times it to its response head. It runs outside the error middleware, so errors
/// are counted with the status they are answered with.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = ViceRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let method = request.method == .head ? "HEAD" : request.method.rawValue
        // Outside the method check (so its 405s count too): the route's template, found here.
        // The dashboard's pages are one series: their paths carry ids.
        let path = request.uri.path
        let routes = APIRoute.routes(forPath: path)
        var context = context
        context.pathRoutes = routes
        let route = routes.first?.path ?? (path == "/" || path == "/ui" || path.hasPrefix("/ui/") ? "/ui" : "unmatched")
        func record(_ status: Int) {
            Counter(label: RegistryMetrics.httpRequests, dimensions: [("method", method), ("route", route), ("status", String(status))])
                .increment()
            Timer(label: RegistryMetrics.httpDuration, dimensions: [("method", method), ("route", route)])
                .recordNanoseconds((ContinuousClock.now - start).inNanoseconds)
        }
        // Errors are answered by the error middleware inside this one: they arrive as responses.
        do {
            let response = try await next(request, context)
            record(response.status.code)
            return response
        } catch {
            record(ErrorMiddleware.answer(for: error, requestID: "").status.code)
            throw error
        }
    }
}

extension ResponseBody {
    /// The same body, with the bytes it writes added to `counter` as they go.
    func counted(by label: String) -> ResponseBody {
        let counter = Counter(label: label)
        let base = self
        return ResponseBody(contentLength: base.contentLength) { writer in
            try await base.write(writer.map { buffer in
                counter.increment(by: buffer.readableBytes)
                return buffer
            })
        }
    }
}
