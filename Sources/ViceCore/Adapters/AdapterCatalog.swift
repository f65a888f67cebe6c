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
    /// Refuses an environment's settings on their face, without an instance.
    public var checkConfiguration: @Sendable (Environment, AdapterContext) throws -> Void
    /// An instance for one environment.
    public var make: @Sendable (Environment, AdapterContext) throws -> any RuntimeAdapter

    /// A factory; without `checkConfiguration`, settings are checked by making an instance.
    public init(kind: String, descriptor: @escaping @Sendable () -> AdapterDescriptor,
                checkConfiguration: (@Sendable (Environment, AdapterContext) throws -> Void)? = nil,
                make: @escaping @Sendable (Environment, AdapterContext) throws -> any RuntimeAdapter) {
        self.kind = kind.lowercased()
        self.descriptor = descriptor
        self.checkConfiguration = checkConfiguration ?? { _ = try make($0, $1) }
        self.make = make
    }

    /// The factory of a compiled-in adapter type: its static side (descriptor, configuration
    /// check) and its initialiser.
    public init(_ type: any RuntimeAdapter.Type) {
        self.init(kind: type.descriptor.kind, descriptor: { type.descriptor },
                  checkConfiguration: { try type.checkConfiguration($0, context: $1) },
                  make: { try type.init(environment: $0, context: $1) })
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
                            ownerName: String? = nil, progress: ProgressReporter = .ignored) throws -> any RuntimeAdapter {
        var context = context(for: environment, logger: logger, egress: egress, ownerName: ownerName)
        context.progress = progress
        return try factory(for: environment).make(environment, context)
    }

    /// Checks `environment`'s settings with its adapter's factory, as an instance made for the
    /// same owner and egress would; nothing is contacted and no instance is made.
    public func checkConfiguration(of environment: Environment, logger: Logger, egress: EgressPolicy,
                                   ownerName: String? = nil) throws {
        try factory(for: environment).checkConfiguration(
            environment, context(for: environment, logger: logger, egress: egress, ownerName: ownerName))
    }

    private func context(for environment: Environment, logger: Logger, egress: EgressPolicy, ownerName: String?) -> AdapterContext {
        var logger = logger
        logger[metadataKey: "environment"] = "\(environment.id ?? "inline")"
        return AdapterContext(logger: logger, temporaryDirectory: temporaryDirectory, egress: egress, ownerName: ownerName)
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
