import CoreMetrics

/// An adapter instance with its calls counted: by adapter kind and operation, and the failures
/// apart, so that an operator sees which backend fails. Health checks also set the
/// environment's health gauge. What `Registry.adapter(for:)` hands out.
package struct MeteredAdapter: Sendable {
    package let base: any RuntimeAdapter
    package let kind: String
    package let environmentID: String?

    init(_ base: any RuntimeAdapter, environmentID: String?) {
        self.base = base
        self.kind = type(of: base).descriptor.kind
        self.environmentID = environmentID
        JobAdapterLabel.current?.withLock { $0 = kind }
    }

    /// The counter of `label` (calls or errors) for `operation` of this adapter.
    private func counter(_ label: String, _ operation: String) -> Counter {
        Counter(label: label, dimensions: [("adapter", kind), ("operation", operation)])
    }

    private func call<T>(_ operation: String, _ body: () async throws -> T) async throws -> T {
        counter(RegistryMetrics.adapterCalls, operation).increment()
        do {
            return try await body()
        } catch {
            // A cancel is no failure of the backend.
            if !(error is CancellationError) { counter(RegistryMetrics.adapterErrors, operation).increment() }
            throw error
        }
    }

    func health() async -> AdapterHealth {
        counter(RegistryMetrics.adapterCalls, "health").increment()
        let health = await base.health()
        if health.status != .healthy { counter(RegistryMetrics.adapterErrors, "health").increment() }
        if let environmentID {
            RegistryMetrics.environmentHealth(id: environmentID, adapter: kind, healthy: health.status == .healthy)
        }
        return health
    }

    func listImages() async throws -> [RemoteImage] { try await call("listImages") { try await base.listImages() } }
    func importImage(reference: String) async throws -> ImageSource {
        try await call("import") { try await base.importImage(reference: reference) }
    }
    func deploy(_ image: ImageDescription, content: ByteStream) async throws -> DeploymentReference {
        try await call("deploy") { try await base.deploy(image, content: content) }
    }
    func remove(reference: String) async throws { try await call("remove") { try await base.remove(reference: reference) } }
    func discardUnfinishedDeploy(deploymentID: String) async throws {
        try await call("discardUnfinishedDeploy") { try await base.discardUnfinishedDeploy(deploymentID: deploymentID) }
    }
}
