import Foundation
import Logging
import ViceCore
import ViceHTTP

/// A `RuntimeAdapter` whose work is done by an external plugin (`vice-adapter/1`). Made by the
/// plugin's factory; the catalog never instantiates it by type.
struct ExternalAdapter: RuntimeAdapter {
    static let descriptor = AdapterDescriptor(
        kind: "external", version: "1.0.0", summary: "adapters in their own process (vice-adapter/1 over a unix socket)",
        capabilities: AdapterCapabilities(imports: [], deploys: []))

    let plugin: ExternalPlugin
    let environment: Environment
    let logger: Logger

    init(plugin: ExternalPlugin, environment: Environment, logger: Logger) {
        self.plugin = plugin
        self.environment = environment
        self.logger = logger
    }

    init(environment: Environment, context: AdapterContext) throws {
        throw AdapterError(.invalidConfiguration, "external adapters are made by their plugin's factory")
    }

    func health() async -> AdapterHealth {
        if let problem = await plugin.reachabilityProblem() {
            return .unhealthy("the \(plugin.kind) plugin is down: \(problem)")
        }
        do {
            let response = try await call("health", ExternalProtocol.Call(environment: environment))
            return try JSONDecoder().decode(AdapterHealth.self, from: Data(try await response.collect(upTo: 1 << 20)))
        } catch {
            return .unhealthy("\(error)")
        }
    }

    func listImages() async throws -> [RemoteImage] {
        let response = try await call("list", ExternalProtocol.Call(environment: environment))
        return try await decode(ExternalProtocol.ListAnswer.self, response, what: "list").images
    }

    func importImage(reference: String) async throws -> ImageSource {
        let response = try await call("import", ExternalProtocol.Call(environment: environment, reference: reference))
        guard let type = response.header("Vice-Contenttype"), let contenttype = ContentType(rawValue: type) else {
            throw AdapterError(.remoteError, "the \(plugin.kind) plugin sent no valid Vice-Contenttype for '\(reference)'")
        }
        let specifics = response.header("Vice-Specifics").flatMap { Data(base64Encoded: $0) }
            .flatMap { try? JSONDecoder().decode(JSONValue.self, from: $0) }
        return ImageSource(contenttype: contenttype, title: response.header("Vice-Title")?.removingPercentEncoding,
                           expectedSize: response.header("Content-Length").flatMap { Int64($0) },
                           specifics: specifics, content: response.body)
    }

    func deploy(_ image: ImageDescription, content: ByteStream) async throws -> DeploymentReference {
        let request = ExternalProtocol.DeployCall(environment: environment, image: .init(
            id: image.imageID, title: image.title, contenttype: image.contenttype.rawValue, imagetype: image.imagetype?.rawValue,
            size: image.size, checksum: image.checksum, specifics: image.specifics, deploymentId: image.deploymentID,
            deploymentTitle: image.deploymentTitle))
        let header = try JSONEncoder().encode(request).base64EncodedString()
        let response = try await send("deploy", body: HTTPRequestBody(content, length: image.size),
                                      headers: [("Vice-Request", header), ("Content-Type", "application/octet-stream")])
        return DeploymentReference(reference: try await decode(ExternalProtocol.DeployAnswer.self, response, what: "deploy").reference)
    }

    func remove(reference: String) async throws {
        let response = try await call("remove", ExternalProtocol.Call(environment: environment, reference: reference))
        _ = try? await response.collect(upTo: 1 << 20)
    }

    // MARK: transport

    /// A verb with a JSON body; a successful (2xx) response, or the plugin's error thrown.
    private func call(_ verb: String, _ body: ExternalProtocol.Call) async throws -> HTTPClientResponse {
        try await send(verb, body: HTTPRequestBody(bytes: Array(try JSONEncoder().encode(body))),
                       headers: [("Content-Type", "application/json")])
    }

    private func send(_ verb: String, body: HTTPRequestBody, headers: [(name: String, value: String)]) async throws -> HTTPClientResponse {
        if let problem = await plugin.reachabilityProblem() {
            throw AdapterError(.unavailable, "the \(plugin.kind) plugin is down: \(problem)")
        }
        let response: HTTPClientResponse
        do {
            response = try await plugin.client.execute(HTTPClientRequest(
                method: "POST", url: "http://plugin/v1/\(verb)", headers: headers + [("Accept", "application/json")],
                body: body, options: plugin.options))
        } catch let error as HTTPClientError {
            await plugin.handshake()
            throw AdapterError(.unavailable, "the \(plugin.kind) plugin (\(plugin.socketPath)) failed during \(verb): \(error.message)",
                               transient: true)
        }
        guard (200..<300).contains(response.status) else {
            let bytes = (try? await response.collect(upTo: 1 << 20)) ?? []
            guard let answer = try? JSONDecoder().decode(ExternalProtocol.ErrorAnswer.self, from: Data(bytes)) else {
                throw AdapterError(.remoteError, "the \(plugin.kind) plugin answered \(verb) with HTTP \(response.status)",
                                   transient: response.status >= 500)
            }
            throw AdapterError(AdapterError.Code(answer.error.code), answer.error.message, transient: answer.error.transient)
        }
        return response
    }

    private func decode<T: Decodable>(_ type: T.Type, _ response: HTTPClientResponse, what: String) async throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(try await response.collect(upTo: 64 << 20)))
        } catch let error as DecodingError {
            throw AdapterError(.remoteError, "the \(plugin.kind) plugin's answer to \(what) cannot be read: \(error)")
        }
    }
}
