package import ViceCore

/// An adapter that can only handle container content (`managementlayer.software: containers-only`),
/// for the checks that refuse deployments an adapter cannot take.
package struct LimitedTestAdapter: RuntimeAdapter {
    package static let descriptor = AdapterDescriptor(
        kind: "containers-only", version: "0.0.1", summary: "test adapter that deploys container content only",
        capabilities: AdapterCapabilities(imports: [.dockerImage], deploys: [.dockerImage, .dockerFile]))

    package init(environment: Environment, context: AdapterContext) throws {}
    package func health() async -> AdapterHealth { .healthy }
    package func listImages() async throws -> [RemoteImage] { [] }
    package func importImage(reference: String) async throws -> ImageSource {
        throw AdapterError(.notFound, "nothing to import from the test adapter")
    }
    package func deploy(_ image: ImageDescription, content: ByteStream) async throws -> DeploymentReference {
        DeploymentReference(reference: "limited-\(image.imageID)")
    }
    package func remove(reference: String) async throws {}
}
