import Foundation
import Testing
import ViceCore
import ViceDocker
import ViceHTTP
import ViceTestSupport

/// The private engine `script/test` starts; its absence is a failure, never a skip.
enum DockerTestEngine {
    static func socket() throws -> String {
        guard let path = ProcessInfo.processInfo.environment["VICE_TEST_DOCKER_SOCKET"],
              FileManager.default.fileExists(atPath: path) else {
            throw DockerTestError(description: "no Docker engine: run the tests with script/test, which starts one, or set VICE_TEST_DOCKER_SOCKET")
        }
        return path
    }

    static func request(_ method: String, _ path: String, body: [UInt8]? = nil, contentType: String? = nil,
                        json: String? = nil) async throws -> (Int, [UInt8]) {
        var headers: [(name: String, value: String)] = []
        if let contentType { headers.append(("Content-Type", contentType)) }
        if json != nil { headers.append(("Content-Type", "application/json")) }
        let response = try await HTTPClient().execute(HTTPClientRequest(
            method: method, url: "http://docker" + path, headers: headers,
            body: (body ?? json.map { Array($0.utf8) }).map { HTTPRequestBody(bytes: $0) },
            options: HTTPConnectionOptions(unixSocketPath: try socket())))
        return (response.status, try await response.collect(upTo: 256 << 20))
    }

    /// Builds `repository:tag` from a scratch context holding `hello.txt`.
    static func buildHello(_ reference: String, text: String = "hello from vice") async throws {
        let context = tarArchive([("Dockerfile", Array("FROM scratch\nCOPY hello.txt /\n".utf8)), ("hello.txt", Array(text.utf8))])
        let (status, body) = try await request("POST", "/build?t=\(reference)&rm=1", body: context, contentType: "application/x-tar")
        let text = String(decoding: body, as: UTF8.self)
        guard status == 200, !text.contains("\"error\"") else { throw DockerTestError(description: "building \(reference): \(text)") }
    }

    static func exists(_ reference: String) async throws -> Bool {
        try await request("GET", "/images/\(reference)/json").0 == 200
    }

    static func environment(socket: String) -> Environment {
        Environment(title: "docker", credentials: Credentials(location: "unix://\(socket)"),
                    runtimetechnology: RuntimeTechnology(type: .container, software: "docker"),
                    managementlayer: ManagementLayer(type: .basic, software: "docker"))
    }
}

struct DockerTestError: Error, CustomStringConvertible {
    var description: String
}
