import CoreMetrics
import Foundation

/// The names and label sets of the registry's metrics, in one place. They are recorded through
/// swift-metrics, so the core knows no exposition format: the executable bootstraps a Prometheus
/// factory, and tests and embedders that do not bootstrap one record into the no-op default.
package enum RegistryMetrics {
    /// `vice_http_requests_total{method,route,status}`.
    package static let httpRequests = "vice_http_requests_total"
    /// `vice_http_request_duration_seconds{method,route}`: time to the response head.
    package static let httpDuration = "vice_http_request_duration_seconds"
    /// `vice_upload_bytes_total`: image bytes received by `POST /v1/image/{id}/file`.
    package static let uploadBytes = "vice_upload_bytes_total"
    /// `vice_download_bytes_total`: image bytes sent by `GET /v1/image/{id}/file`.
    package static let downloadBytes = "vice_download_bytes_total"
    /// `vice_job_duration_seconds{kind,adapter,outcome}`: one sample per finished attempt.
    package static let jobDuration = "vice_job_duration_seconds"
    /// `vice_job_retries_total{kind}`: attempts that failed and were scheduled again.
    package static let jobRetries = "vice_job_retries_total"
    /// `vice_workers_busy{queue}`: workers of this node running a job now.
    package static let workersBusy = "vice_workers_busy"
    /// `vice_adapter_calls_total{adapter,operation}` and `vice_adapter_errors_total{…}`.
    package static let adapterCalls = "vice_adapter_calls_total"
    package static let adapterErrors = "vice_adapter_errors_total"
    /// `vice_environment_healthy{environment,adapter}`: 1 or 0, from the last health check.
    package static let environmentHealthy = "vice_environment_healthy"
    // Gauges read from the stores at scrape time:
    /// `vice_jobs{queue,kind,state}`.
    package static let jobs = "vice_jobs"
    /// `vice_images{status}`.
    package static let images = "vice_images"
    /// `vice_workers{queue}`: this node's worker slots.
    package static let workers = "vice_workers"
    /// `vice_store_blobs` and `vice_store_bytes`: what the blob store holds.
    package static let storeBlobs = "vice_store_blobs"
    package static let storeBytes = "vice_store_bytes"
    /// `vice_metrics_store_up`: 0 when the last scrape could not read the store.
    package static let metricsStoreUp = "vice_metrics_store_up"

    /// Records how a job attempt ended.
    package static func jobFinished(kind: JobKind, adapter: String?, outcome: String, after elapsed: Duration) {
        Timer(label: jobDuration, dimensions: [("kind", kind.rawValue), ("adapter", adapter ?? "none"), ("outcome", outcome)])
            .recordNanoseconds(elapsed.inNanoseconds)
    }

    package static func jobRetried(kind: JobKind) {
        Counter(label: jobRetries, dimensions: [("kind", kind.rawValue)]).increment()
    }

    package static func workersBusy(queue: JobQueueName, _ count: Int) {
        Gauge(label: workersBusy, dimensions: [("queue", queue.rawValue)]).record(count)
    }

    package static func environmentHealth(id: String, adapter: String, healthy: Bool) {
        Gauge(label: environmentHealthy, dimensions: [("environment", id), ("adapter", adapter)]).record(healthy ? 1 : 0)
    }

    /// An environment that is gone takes its health series with it (an alert on it then clears).
    package static func environmentRemoved(id: String, adapter: String) {
        Gauge(label: environmentHealthy, dimensions: [("environment", id), ("adapter", adapter)]).destroy()
    }
}

/// The adapter a job's attempt used, set when the registry makes one, so that the attempt's
/// duration is labelled with it. Bound by the worker around each attempt.
package enum JobAdapterLabel {
    @TaskLocal package static var current: LockedBox<String?>?
}
