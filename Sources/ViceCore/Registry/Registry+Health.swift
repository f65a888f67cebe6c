import Foundation

/// What `GET /ready` reports of one dependency.
package struct ProbeResult: Sendable, Hashable, Codable {
    package var ok: Bool
    package var message: String?
    package init(ok: Bool, message: String? = nil) {
        self.ok = ok
        self.message = message
    }
}

/// The counts the metrics' gauges show, read at scrape time.
package struct RegistrySnapshot: Sendable {
    package var jobs: [JobCount]
    package var images: [String: Int]
    package var workerSlots: [JobQueueName: Int]
    package var store: BlobUsage?
}

extension Registry {
    /// Whether the metadata store and the blob store answer, each within `timeout`: a database
    /// that hangs makes the node unready instead of hanging the probe.
    package func probeStores(timeout: Duration = .seconds(5)) async -> [String: ProbeResult] {
        async let database = Self.probe(timeout) { [store] in _ = try await store.read { try $0.lastEventSeq() } }
        // Any digest will do: the store must answer whether it holds it.
        async let blobs = Self.probe(timeout) { [blobs] in _ = try await blobs.contains("sha256:" + String(repeating: "0", count: 64)) }
        return ["database": await database, "blobStore": await blobs]
    }

    private static func probe(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> Void) async -> ProbeResult {
        // An unstructured task, raced against the clock and abandoned when it loses: a store call
        // that ignores cancellation (a blocking read on a dead socket) cannot hold the probe up.
        await withCheckedContinuation { (continuation: CheckedContinuation<ProbeResult, Never>) in
            let answered = LockedBox(false)
            @Sendable func answer(_ result: ProbeResult) {
                let first = answered.withLock { done -> Bool in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: result) }
            }
            let work = Task {
                do {
                    try await body()
                    answer(ProbeResult(ok: true))
                } catch {
                    answer(ProbeResult(ok: false, message: JobLifecycle.describe(error)))
                }
            }
            Task {
                try? await Task.sleep(for: timeout)
                answer(ProbeResult(ok: false, message: "no answer within \(timeout)"))
                work.cancel()
            }
        }
    }

    /// Jobs per queue, kind and state, images per status and the worker slots; the blob store's
    /// usage when `includeStore` (it may walk the store, so callers cache it).
    package func snapshot(includeStore: Bool) async throws -> RegistrySnapshot {
        let (jobs, images) = try await store.read { tx in (try tx.jobCounts(), try tx.imageCounts()) }
        let usage = includeStore ? try await blobs.usage() : nil
        return RegistrySnapshot(jobs: jobs, images: images, workerSlots: workerSlots.withLock { $0 }, store: usage)
    }
}

extension Registry {
    /// Checks every environment (stored and configured) once, `concurrency` at a time, so the
    /// health gauge of each is current without anyone asking. A failure to reach one is its
    /// health; nothing here throws but the store read.
    package func checkEnvironmentHealth(concurrency: Int = 4) async throws {
        let stored = try await store.read { try $0.environments(owner: nil, filter: EnvironmentFilter()) }
        var environments = try stored.map { try unsealed($0) }
        environments += configuredEnvironments.map(\.environment)
        try await withThrowingTaskGroup(of: Void.self) { group in
            var started = 0
            for environment in environments {
                if started >= concurrency { try await group.next() }
                started += 1
                group.addTask {
                    do {
                        _ = await (try await self.adapter(for: environment, ownerID: environment.userid)).health()
                    } catch {
                        RegistryMetrics.environmentHealth(id: environment.id ?? "?", adapter: environment.adapterKind ?? "none",
                                                          healthy: false)   // (adapterKind is the descriptor's kind, lower-cased)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
