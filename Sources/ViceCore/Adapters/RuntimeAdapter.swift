/// One kind of execution environment, reduced to four verbs plus health. An adapter instance is
/// made for one environment (with its decrypted credentials) and lives for one job or request.
///
/// Bulk data moves as `ByteStream`s: an adapter never holds an image in memory.
public protocol RuntimeAdapter: Sendable {
    /// Kind (`managementlayer.software`), version and capabilities.
    static var descriptor: AdapterDescriptor { get }

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
}
