import Foundation
public import ViceCore

/// The reference adapter: an execution environment in process memory (`managementlayer.software:
/// memory`). It shows adapter authors the contract and lets the registry's whole cycle run without
/// any real backend. Registered only when the configuration enables it.
///
/// Environment settings: `credentials.location` names the cloud (default `default`), one per
/// owner; `credentials.password` must be the one the cloud was first opened with;
/// `credentials.specifics.chunkDelayMs` slows transfers down (to observe running jobs).
public struct InMemoryAdapter: RuntimeAdapter {
    public static let descriptor = AdapterDescriptor(
        kind: "memory", version: "1.0.0",
        summary: "In-memory reference environment for trying the registry and testing it",
        capabilities: AdapterCapabilities(imports: Set(ContentType.allCases), deploys: Set(ContentType.allCases)),
        maintainers: ["ViCE Registry developers"])

    /// Deployments larger than this are refused: everything lives in memory.
    public static let maximumDeploySize = 256 << 20

    let cloud: InMemoryCloud
    let password: String?
    let chunkDelay: Duration?

    public init(environment: Environment, context: AdapterContext) throws {
        let location = environment.credentials?.location?.trimmingCharacters(in: .whitespaces)
        let name = location?.isEmpty == false ? location! : "default"
        guard name.count <= 200 else { throw AdapterError(.invalidConfiguration, "an in-memory cloud's name has at most 200 characters") }
        cloud = try InMemoryCloud.open(name, owner: context.ownerName ?? "", password: environment.credentials?.password)
        password = environment.credentials?.password
        if let text = environment.credentials?.specifics?["chunkDelayMs"]?.textValue {
            guard let ms = Int(text), ms >= 0 else {
                throw AdapterError(.invalidConfiguration, "specifics.chunkDelayMs must be a whole number of milliseconds")
            }
            chunkDelay = .milliseconds(ms)
        } else {
            chunkDelay = nil
        }
    }

    public func health() async -> AdapterHealth {
        do {
            try cloud.checkLogin(password: password)
            return .healthy
        } catch {
            return .unhealthy("\(error)")
        }
    }

    public func listImages() async throws -> [RemoteImage] {
        try cloud.checkLogin(password: password)
        return cloud.images.map {
            RemoteImage(reference: $0.reference, title: $0.title, contenttype: $0.contenttype, size: Int64($0.bytes.count))
        }
    }

    public func importImage(reference: String) async throws -> ImageSource {
        try cloud.checkLogin(password: password)
        try cloud.consumeTransientFailure()
        guard let image = cloud.image(reference) else {
            throw AdapterError(.notFound, "the in-memory cloud '\(cloud.name)' has no image '\(reference)'")
        }
        let chunks = stride(from: 0, to: image.bytes.count, by: 64 * 1024).map {
            Array(image.bytes[$0..<Swift.min($0 + 64 * 1024, image.bytes.count)])
        }
        let delay = chunkDelay
        let index = LockedBox(0)
        let content = ByteStream {
            let next = index.withLock { i -> Int in defer { i += 1 }; return i }
            guard next < chunks.count else { return nil }
            if let delay { try await Task.sleep(for: delay) }
            return chunks[next]
        }
        return ImageSource(contenttype: image.contenttype, title: image.title, expectedSize: Int64(image.bytes.count),
                           content: content)
    }

    public func deploy(_ image: ImageDescription, content: ByteStream) async throws -> DeploymentReference {
        try cloud.checkLogin(password: password)
        try cloud.consumeTransientFailure()
        var bytes: [UInt8] = []
        for try await chunk in content {
            if let chunkDelay { try await Task.sleep(for: chunkDelay) }
            guard bytes.count + chunk.count <= Self.maximumDeploySize else {
                throw AdapterError(.unsupported, "the in-memory cloud takes images up to \(Self.maximumDeploySize) bytes")
            }
            bytes += chunk
        }
        guard bytes.count == image.size else {
            throw AdapterError(.integrity, "received \(bytes.count) bytes, expected \(image.size)", transient: true)
        }
        let reference = "mem-" + IDGenerator.make(length: 12)
        try cloud.deploy(InMemoryCloud.StoredImage(reference: reference, title: image.deploymentTitle ?? image.title,
                                            contenttype: image.contenttype, bytes: bytes))
        return DeploymentReference(reference: reference)
    }

    public func remove(reference: String) async throws {
        try cloud.checkLogin(password: password)
        cloud.remove(reference)
    }
}
