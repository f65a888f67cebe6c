extension Registry {
    /// `GET /runtimestats`: jobs waiting per queue and the worker slots consuming each queue.
    package func runtimeStats() async throws -> RuntimeStats {
        let pending = try await store.read { tx in
            try Dictionary(uniqueKeysWithValues: JobQueueName.allCases.map { ($0, try tx.pendingJobCount(queue: $0)) })
        }
        let workers = workerSlots.withLock { $0 }
        func count(_ queue: JobQueueName) -> Int64 { Int64(pending[queue] ?? 0) }
        func slots(_ queue: JobQueueName) -> Int64 { Int64(workers[queue] ?? 0) }
        return RuntimeStats(
            importsPending: count(.import), importWorker: slots(.import),
            exportsPending: count(.export), exportWorker: slots(.export),
            storePending: count(.store), storeWorker: slots(.store))
    }
}
