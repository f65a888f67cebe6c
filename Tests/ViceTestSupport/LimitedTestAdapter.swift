import ViceCore

/// An adapter that can only handle container content (`managementlayer.software: containers-only`),
/// for the checks that refuse deployments an adapter cannot take.
public struct LimitedTestAdapter: RuntimeAdapter {
    public static let descriptor = AdapterDescriptor(
        kind: "containers-only", version: "0.0.1", summary: "test adapter that deploys container content only",
        capabilities: AdapterCapabilities(imports: [.dockerImage], deploys: [.dockerImage, .dockerFile]))

    public init(environment: Environment, context: AdapterContext) throws {}
    public func health() async -> AdapterHealth { .healthy }
    public func listImages() async throws -> [RemoteImage] { [] }
    public func importImage(reference: String) async throws -> ImageSource {
        throw AdapterError(.notFound, "nothing to import from the test adapter")
    }
    public func deploy(_ image: ImageDescription, content: ByteStream) async throws -> DeploymentReference {
        DeploymentReference(reference: "limited-\(image.imageID)")
    }
    public func remove(reference: String) async throws {}
}
