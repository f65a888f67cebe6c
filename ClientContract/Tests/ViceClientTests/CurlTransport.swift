import Foundation
import HTTPTypes
import OpenAPIRuntime

/// A `ClientTransport` that sends each request with the curl command: a client independent of the
/// registry's code (and of URLSession, which hangs in process tests on this platform).
struct CurlTransport: ClientTransport {
    func send(_ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String) async throws -> (HTTPResponse, HTTPBody?) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vice-client-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let headersFile = directory.appendingPathComponent("headers"), bodyFile = directory.appendingPathComponent("body")
        var arguments = ["-s", "-S", "--max-time", "60", "-X", request.method.rawValue, "-D", headersFile.path, "-o", bodyFile.path]
        for field in request.headerFields { arguments += ["-H", "\(field.name.rawName): \(field.value)"] }
        if let body {
            let requestFile = directory.appendingPathComponent("request")
            try Data(try await [UInt8](collecting: body, upTo: 64 << 20)).write(to: requestFile)
            arguments += ["--data-binary", "@\(requestFile.path)"]
        }
        arguments.append(baseURL.absoluteString + (request.path ?? ""))
        try await Self.run(arguments)

        // The last header block (after any 100 Continue) is the answer's.
        let text = String(decoding: try Data(contentsOf: headersFile), as: UTF8.self)
        let block = text.components(separatedBy: "\r\n\r\n").filter { !$0.isEmpty }.last ?? ""
        var lines = block.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let code = Int(statusLine[1]) else { throw CurlFailed(message: "no status line in \(block)") }
        var fields = HTTPFields()
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), let name = HTTPField.Name(String(line[..<colon])) else { continue }
            fields.append(HTTPField(name: name, value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let answer = (try? Data(contentsOf: bodyFile)) ?? Data()
        return (HTTPResponse(status: .init(code: code), headerFields: fields), answer.isEmpty ? nil : HTTPBody(answer))
    }

    struct CurlFailed: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Runs curl on a thread of its own, off the cooperative pool.
    static func run(_ arguments: [String]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                process.arguments = arguments
                let errors = Pipe()
                process.standardError = errors
                do {
                    try process.run()
                    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                    process.waitUntilExit()
                    guard process.terminationStatus == 0 else { throw CurlFailed(message: "curl failed (\(process.terminationStatus)): \(message)") }
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}

/// Basic credentials on every request: the generator leaves `security` to middleware.
struct BasicAuthentication: ClientMiddleware {
    var username: String
    var password: String

    func intercept(_ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
                   next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
        return try await next(request, body, baseURL)
    }
}
