import CoreMetrics
import Foundation
import Logging
import Prometheus
import ViceCore

/// swift-metrics into a Prometheus registry, and the text `GET /metrics` serves: what the core
/// and the API record as it happens, plus gauges read from the stores at scrape time.
final class MetricsSetup: Sendable {
    let prometheus = PrometheusCollectorRegistry()
    private let registry: Registry
    private let logger: Logger
    /// The blob store's usage walks the store: a walk that took more than a second is reused for
    /// a minute, so a large store is not walked on every scrape.
    private let usage = LockedBox<(until: ContinuousClock.Instant, usage: BlobUsage)?>(nil)

    init(registry: Registry, logger: Logger) {
        self.registry = registry
        self.logger = logger
    }

    /// Makes swift-metrics record into `prometheus` (once per process).
    func bootstrap() {
        var factory = PrometheusMetricsFactory(registry: prometheus)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
        ]
        // Jobs move whole disks: seconds to hours.
        factory.durationHistogramBuckets[RegistryMetrics.jobDuration] = [
            .seconds(1), .seconds(5), .seconds(15), .seconds(60), .seconds(300), .seconds(900), .seconds(3600),
            .seconds(4 * 3600), .seconds(12 * 3600),
        ]
        MetricsSystem.bootstrap(factory)
    }

    /// The exposition: refreshes the scrape-time gauges, then renders everything.
    func render() async -> [UInt8] {
        var storeUp = 1
        do {
            try await refreshGauges()
        } catch {
            // The counters still go out; the stale gauges say so by `vice_metrics_store_up 0`.
            logger.warning("reading the store for the metrics failed: \(error)")
            storeUp = 0
        }
        Gauge(label: RegistryMetrics.metricsStoreUp).record(storeUp)
        return prometheus.emitToBuffer()
    }

    private func refreshGauges() async throws {
        let started = ContinuousClock.now
        let cached = usage.withLock { $0 }
        let fresh = cached.map { started < $0.until } ?? false
        let snapshot = try await registry.snapshot(includeStore: !fresh)
        if let store = snapshot.store {
            let took = ContinuousClock.now - started
            usage.withLock { $0 = (took > .seconds(1) ? started + .seconds(60) : started, store) }
        }
        // Every combination is written, zeros too: a state that empties must drop to 0, not keep
        // its last value.
        var jobs: [String: Int] = [:]
        for count in snapshot.jobs { jobs["\(count.kind.rawValue)/\(count.state.rawValue)", default: 0] += count.count }
        for kind in JobKind.allCases {
            for state in JobState.allCases {
                Gauge(label: RegistryMetrics.jobs, dimensions: [("queue", kind.queue.rawValue), ("kind", kind.rawValue), ("state", state.apiName)])
                    .record(jobs["\(kind.rawValue)/\(state.rawValue)"] ?? 0)
            }
        }
        for status in ImageStatus.allCases {
            Gauge(label: RegistryMetrics.images, dimensions: [("status", status.rawValue)]).record(snapshot.images[status.rawValue] ?? 0)
        }
        for queue in JobQueueName.allCases {
            Gauge(label: RegistryMetrics.workers, dimensions: [("queue", queue.rawValue)]).record(snapshot.workerSlots[queue] ?? 0)
        }
        if let store = snapshot.store ?? cached?.usage {
            Gauge(label: RegistryMetrics.storeBlobs).record(store.blobs)
            Gauge(label: RegistryMetrics.storeBytes).record(store.bytes)
        }
    }
}
