public import Foundation
public import Logging

/// How the catalog makes adapters of one kind. Compiled-in adapters are registered by type; an
/// adapter whose descriptor is only known at run time (an external plugin, whose handshake tells
/// its capabilities) brings its own factory.
public struct AdapterFactory: Sendable {
    /// The `managementlayer.software` it serves (lower case).
    public var kind: String
    /// The current descriptor (it may change when a plugin restarts with other capabilities).
    public var descriptor: @Sendable () -> AdapterDescriptor
    public var make: @Sendable (Environment, AdapterContext) throws -> any RuntimeAdapter

    public init(kind: String, descriptor: @escaping @Sendable () -> AdapterDescriptor,
                make: @escaping @Sendable (Environment, AdapterContext) throws -> any RuntimeAdapter) {
        self.kind = kind.lowercased()
        self.descriptor = descriptor
        self.make = make
    }

    /// The factory of a compiled-in adapter type.
    public init(_ type: any RuntimeAdapter.Type) {
        self.init(kind: type.descriptor.kind, descriptor: { type.descriptor }, make: { try type.init(environment: $0, context: $1) })
    }
}

/// The adapters this registry knows, keyed by `managementlayer.software` (case-insensitive).
/// Filled at start-up by the executable; the core names no adapter itself.
public final class AdapterCatalog: Sendable {
    private let factories = LockedBox<[String: AdapterFactory]>([:])
    private let scratch = LockedBox<URL>(FileManager.default.temporaryDirectory)

    /// Where adapters keep temporary files (the executable points it into the store).
    public var temporaryDirectory: URL {
        get { scratch.withLock { $0 } }
        set { scratch.withLock { $0 = newValue } }
    }

    public init(_ adapters: [any RuntimeAdapter.Type] = []) {
        adapters.forEach { register($0) }
    }

    public func register(_ adapter: any RuntimeAdapter.Type) {
        register(AdapterFactory(adapter))
    }

    public func register(_ factory: AdapterFactory) {
        factories.withLock { $0[factory.kind] = factory }
    }

    public var descriptors: [AdapterDescriptor] {
        factories.withLock { Array($0.values) }.map { $0.descriptor() }.sorted { $0.kind < $1.kind }
    }

    public func descriptor(forKind kind: String) -> AdapterDescriptor? {
        factories.withLock { $0[kind.lowercased()] }?.descriptor()
    }

    /// The descriptor of the adapter serving `environment`, or an error naming what is available.
    public func descriptor(for environment: Environment) throws -> AdapterDescriptor {
        try factory(for: environment).descriptor()
    }

    /// An adapter instance for `environment` (which carries its decrypted credentials), bound to
    /// `egress`. There is no default: whoever makes an adapter decides how far it may reach.
    public func makeAdapter(for environment: Environment, logger: Logger, egress: EgressPolicy,
                            ownerName: String? = nil) throws -> any RuntimeAdapter {
        var logger = logger
        logger[metadataKey: "environment"] = "\(environment.id ?? "inline")"
        return try factory(for: environment).make(environment, AdapterContext(
            logger: logger, temporaryDirectory: temporaryDirectory, egress: egress, ownerName: ownerName))
    }

    private func factory(for environment: Environment) throws -> AdapterFactory {
        guard let kind = environment.adapterKind else {
            throw ViceError.invalidInput("the environment has no managementlayer.software, so no adapter can serve it")
        }
        guard let factory = factories.withLock({ $0[kind] }) else {
            let known = descriptors.map(\.kind).joined(separator: ", ")
            throw ViceError.invalidInput(
                "no adapter is registered for managementlayer.software '\(kind)' (available: \(known.isEmpty ? "none" : known))")
        }
        return factory
    }
}
