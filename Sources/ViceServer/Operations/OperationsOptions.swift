import Foundation

/// The endpoints for operators, outside the API: `GET /health`, `GET /ready`, `GET /metrics`.
package struct OperationsOptions: Sendable {
    /// Who may read `/metrics`.
    package enum MetricsAccess: Sendable, Equatable {
        /// 404, as if there were no such endpoint.
        case off
        /// Anyone who reaches the server (a listener only the scraper reaches).
        case open
        /// `Authorization: Bearer <token>` with this token.
        case token(String)
    }

    package var metricsAccess: MetricsAccess
    /// The metrics in the Prometheus text format.
    package var renderMetrics: @Sendable () async -> [UInt8]
    /// Whether this node's workers are running (false before they start and once it stops).
    package var workersRunning: @Sendable () -> Bool

    package init(metricsAccess: MetricsAccess = .off, renderMetrics: @escaping @Sendable () async -> [UInt8] = { [] },
                 workersRunning: @escaping @Sendable () -> Bool = { true }) {
        self.metricsAccess = metricsAccess
        self.renderMetrics = renderMetrics
        self.workersRunning = workersRunning
    }
}
