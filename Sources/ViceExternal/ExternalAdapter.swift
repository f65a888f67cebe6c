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
    /// Where the plugin's progress lines go.
    let progress: ProgressReporter

    init(plugin: ExternalPlugin, environment: Environment, logger: Logger, progress: ProgressReporter = .ignored) {
        self.progress = progress
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
        return DeploymentReference(reference: try await answer(ExternalProtocol.DeployAnswer.self, response, what: "deploy").reference)
    }

    func remove(reference: String) async throws {
        let response = try await call("remove", ExternalProtocol.Call(environment: environment, reference: reference))
        if Self.isProgressStream(response) {
            _ = try await answer(ExternalProtocol.Empty.self, response, what: "remove")
        } else {
            _ = try? await response.collect(upTo: 1 << 20)
        }
    }

    /// The plugin's answer to a verb: one JSON document, or — when it answers
    /// `application/x-ndjson` — progress lines (`{"progress": {...}}`) reported as they come,
    /// then the answer (or `{"error": {...}}`) as the last line.
    private func answer<T: Decodable>(_ type: T.Type, _ response: HTTPClientResponse, what: String) async throws -> T {
        guard Self.isProgressStream(response) else { return try await decode(type, response, what: what) }
        var pending: [UInt8] = []
        var last: [UInt8]?
        func take(_ line: ArraySlice<UInt8>) throws {
            guard !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) else { return }
            if let report = try? JSONDecoder().decode(ExternalProtocol.ProgressLine.self, from: Data(line)), let progress = report.progress {
                if let phase = progress.phase { self.progress.phase(JobPhase(phase)) }
                if let done = progress.bytesDone { self.progress.bytes(done: done, total: progress.bytesTotal) }
            } else {
                last = Array(line)
            }
        }
        for try await chunk in response.body {
            pending += chunk
            guard pending.count <= 1 << 20 else {
                throw AdapterError(.remoteError, "the \(plugin.kind) plugin sent a line of more than 1 MiB answering \(what)")
            }
            while let newline = pending.firstIndex(of: 0x0A) {
                try take(pending[..<newline])
                pending.removeSubrange(...newline)
            }
        }
        try take(pending[...])
        guard let last else { throw AdapterError(.remoteError, "the \(plugin.kind) plugin's answer to \(what) ended without a result line") }
        if let failure = try? JSONDecoder().decode(ExternalProtocol.ErrorAnswer.self, from: Data(last)) {
            throw AdapterError(AdapterError.Code(failure.error.code), failure.error.message, transient: failure.error.transient)
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(last))
        } catch {
            throw AdapterError(.remoteError, "the \(plugin.kind) plugin's answer to \(what) cannot be read: \(error)")
        }
    }

    private static func isProgressStream(_ response: HTTPClientResponse) -> Bool {
        response.header("Content-Type")?.lowercased().hasPrefix("application/x-ndjson") == true
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
                method: "POST", url: "http://plugin/v1/\(verb)", headers: headers + [("Accept", "application/json, application/x-ndjson")],
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
