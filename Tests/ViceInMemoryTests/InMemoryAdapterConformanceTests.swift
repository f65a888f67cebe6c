import Foundation
import Testing
import ViceAdapterTesting
import ViceCore
import ViceInMemory
import Logging

/// The reference adapter keeps the contract it stands for.
@Suite struct InMemoryAdapterConformanceTests {
    @Test func theInMemoryAdapterConforms() async throws {
        let cloud = "conformance-\(UUID())"
        InMemoryCloud.named(cloud, owner: "").requirePassword("right-password")
        func environment(_ password: String) -> Environment {
            Environment(credentials: Credentials(location: cloud, username: "u", password: password),
                        managementlayer: ManagementLayer(type: .cloudcomputing, software: "memory"))
        }
        let failures = await AdapterConformance(.init(
            InMemoryAdapter.self, environment: environment("right-password"), wrongCredentials: environment("wrong"),
            importable: "sample-qcow2")).run()
        #expect(failures.isEmpty, "\(failures)")
    }

    @Test func theSuiteCatchesABrokenAdapter() async throws {
        // An adapter that lies about sizes and cannot tell an unknown image: the suite must say so.
        let failures = await AdapterConformance(.init(
            descriptor: LyingAdapter.descriptor, make: { try LyingAdapter(environment: $0, context: AdapterContext(logger: .init(label: "t"))) },
            environment: Environment(managementlayer: ManagementLayer(software: "liar")), importable: "anything")).run()
        #expect(failures.contains { $0.hasPrefix("import: announced 10 bytes, sent 3") }, "\(failures)")
        #expect(failures.contains { $0.hasPrefix("import: an unknown reference did not fail") }, "\(failures)")
        #expect(failures.contains { $0.hasPrefix("list: the sample") }, "\(failures)")
        #expect(failures.contains { $0.hasPrefix("health:") }, "\(failures)")
    }
}

private struct LyingAdapter: RuntimeAdapter {
    static let descriptor = AdapterDescriptor(kind: "liar", version: "0", summary: "breaks every promise",
                                              capabilities: AdapterCapabilities(imports: [.diskRaw], deploys: []))
    init(environment: Environment, context: AdapterContext) throws {}
    func health() async -> AdapterHealth { .unhealthy("always") }
    func listImages() async throws -> [RemoteImage] { [] }
    func importImage(reference: String) async throws -> ImageSource {
        ImageSource(contenttype: .diskRaw, expectedSize: 10, content: ByteStream(bytes: [1, 2, 3]))
    }
    func deploy(_ image: ImageDescription, content: ByteStream) async throws -> DeploymentReference { .init(reference: "x") }
    func remove(reference: String) async throws {}
}
