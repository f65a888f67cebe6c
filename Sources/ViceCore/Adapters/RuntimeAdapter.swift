/// One kind of execution environment, reduced to four verbs plus health. An adapter instance is
/// made for one environment (with its decrypted credentials) and lives for one job or request.
///
/// Bulk data moves as `ByteStream`s: an adapter never holds an image in memory.
public protocol RuntimeAdapter: Sendable {
    /// Kind (`managementlayer.software`), version and capabilities.
    static var descriptor: AdapterDescriptor { get }

    /// Refuses settings that are wrong on their face (a missing location, a file path in a
    /// user's settings, a URL of another scheme) without contacting anything and without making
    /// an instance. The registry calls it when an environment is created or changed. The default
    /// makes an instance and drops it; adapters whose instances hold clients check by themselves.
    static func checkConfiguration(_ environment: Environment, context: AdapterContext) throws

    /// An instance for one environment (with its decrypted credentials), for one job or request.
    init(environment: Environment, context: AdapterContext) throws

    /// Whether the environment can be reached and logged in to.
    func health() async -> AdapterHealth
    /// What could be imported from the environment.
    func listImages() async throws -> [RemoteImage]
    /// Opens an image of the environment for import.
    func importImage(reference: String) async throws -> ImageSource
    /// Puts an image into the environment; returns its id there.
    func deploy(_ image: ImageDescription, content: ByteStream) async throws -> DeploymentReference
    /// Takes a deployed image out of the environment. Removing what is already gone succeeds.
    func remove(reference: String) async throws
    /// After a deploy of `deploymentID` was cancelled mid-way: removes whatever it had begun
    /// to make in the environment (a half-uploaded image, an unfinished transfer). The default
    /// does nothing, for adapters whose deploys leave nothing behind when cut off.
    func discardUnfinishedDeploy(deploymentID: String) async throws
}

extension RuntimeAdapter {
    public func discardUnfinishedDeploy(deploymentID: String) async throws {}

    public static func checkConfiguration(_ environment: Environment, context: AdapterContext) throws {
        _ = try Self(environment: environment, context: context)
    }
}
