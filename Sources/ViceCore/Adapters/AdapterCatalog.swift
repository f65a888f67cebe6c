import Logging

/// The adapters this registry knows, keyed by `managementlayer.software` (case-insensitive).
/// Filled once at start-up by the executable; the core names no adapter itself.
public final class AdapterCatalog: Sendable {
    private let types = LockedBox<[String: any RuntimeAdapter.Type]>([:])

    public init(_ adapters: [any RuntimeAdapter.Type] = []) {
        adapters.forEach { register($0) }
    }

    public func register(_ adapter: any RuntimeAdapter.Type) {
        types.withLock { $0[adapter.descriptor.kind] = adapter }
    }

    public var descriptors: [AdapterDescriptor] {
        types.withLock { $0.values.map { $0.descriptor } }.sorted { $0.kind < $1.kind }
    }

    public func descriptor(forKind kind: String) -> AdapterDescriptor? {
        types.withLock { $0[kind.lowercased()] }?.descriptor
    }

    /// The descriptor of the adapter serving `environment`, or an error naming what is available.
    public func descriptor(for environment: Environment) throws -> AdapterDescriptor {
        try adapterType(for: environment).descriptor
    }

    /// An adapter instance for `environment` (which carries its decrypted credentials).
    public func makeAdapter(for environment: Environment, logger: Logger) throws -> any RuntimeAdapter {
        var logger = logger
        logger[metadataKey: "environment"] = "\(environment.id ?? "inline")"
        return try adapterType(for: environment).init(environment: environment, context: AdapterContext(logger: logger))
    }

    private func adapterType(for environment: Environment) throws -> any RuntimeAdapter.Type {
        guard let kind = environment.adapterKind else {
            throw ViceError.invalidInput("the environment has no managementlayer.software, so no adapter can serve it")
        }
        guard let type = types.withLock({ $0[kind] }) else {
            let known = descriptors.map(\.kind).joined(separator: ", ")
            throw ViceError.invalidInput(
                "no adapter is registered for managementlayer.software '\(kind)' (available: \(known.isEmpty ? "none" : known))")
        }
        return type
    }
}
