import Crypto
import Foundation
import Hummingbird
import Testing
import ViceCore
@testable import ViceHTTP
import ViceTestSupport

/// A real HTTP server (Hummingbird) on a TCP port or a unix socket, for the client to talk to.
struct TestServer {
    static func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/hello") { _, _ in "hello" }
        router.post("/echo") { request, _ in
            Response(status: .ok, headers: [.contentType: "application/octet-stream"], body: ResponseBody(asyncSequence: request.body))
        }
        router.post("/digest") { request, _ -> String in
            var hasher = SHA256()
            var count = 0
            for try await buffer in request.body {
                count += buffer.readableBytes
                buffer.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            }
            return "\(count) " + hasher.finalize().map { String(format: "%02x", $0) }.joined()
        }
        router.put("/digest") { request, _ -> String in
            var count = 0
            for try await buffer in request.body { count += buffer.readableBytes }
            return "\(count)"
        }
        router.get("/bytes/:count") { _, context in
            let total = Int(context.parameters.get("count") ?? "0") ?? 0
            return Response(status: .ok, headers: [.contentLength: String(total)], body: ResponseBody { writer in
                var sent = 0
                let block = ByteBuffer(repeating: 0xAB, count: 1 << 20)
                while sent < total {
                    let n = min(block.readableBytes, total - sent)
                    try await writer.write(block.getSlice(at: 0, length: n)!)
                    sent += n
                }
                try await writer.finish(nil)
            })
        }
        router.get("/stall") { _, _ in
            Response(status: .ok, body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "first"))
                try await Task.sleep(for: .seconds(3600))
                try await writer.finish(nil)
            })
        }
        router.get("/status/:code") { _, context in
            Response(status: .init(code: Int(context.parameters.get("code") ?? "500") ?? 500), headers: [.init("X-Test")!: "yes"])
        }
        router.delete("/thing") { _, _ in "deleted" }
        return router
    }

    /// Runs a server for the duration of `body`.
    static func with<T: Sendable>(_ address: BindAddress, _ body: @Sendable (Int) async throws -> T) async throws -> T {
        let port = LockedBox(0)
        let ready = OneShotEvent()
        let app = Application(router: router(), configuration: .init(address: address),
                              onServerRunning: { channel in
                                  port.withLock { $0 = channel.localAddress?.port ?? 0 }
                                  ready.fire()
                              })
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.runService(gracefulShutdownSignals: [])
                return nil
            }
            await ready.wait()
            let result = try await body(port.withLock { $0 })
            group.cancelAll()
            return result
        }
    }
}

func peakMemoryKiB() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    return Int(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }?.split(separator: " ")[1] ?? "0") ?? 0
}

@Suite(.serialized) struct HTTPClientTests {
    let client = HTTPClient()

    @Test func getsAndPostsOverTCP() async throws {
        try await TestServer.with(.hostname("127.0.0.1", port: 0)) { port in
            let hello = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/hello"))
            #expect(hello.status == 200)
            #expect(String(decoding: try await hello.collect(), as: UTF8.self) == "hello")
            #expect(hello.header("content-length") == "5")

            let payload = Array("ping".utf8)
            let echo = try await client.execute(HTTPClientRequest(method: "POST", url: "http://127.0.0.1:\(port)/echo",
                                                                  body: HTTPRequestBody(bytes: payload)))
            #expect(try await echo.collect() == payload)

            let status = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/status/404"))
            #expect(status.status == 404)
            #expect(status.header("X-Test") == "yes")
            #expect(try await status.collect().isEmpty)

            let deleted = try await client.execute(HTTPClientRequest(method: "DELETE", url: "http://127.0.0.1:\(port)/thing"))
            #expect(String(decoding: try await deleted.collect(), as: UTF8.self) == "deleted")

            // A body of unknown length goes out chunked.
            let chunks = ByteStream(bytes: Array(repeating: 1, count: 300_000), chunkSize: 7_000)
            let digest = try await client.execute(HTTPClientRequest(method: "POST", url: "http://127.0.0.1:\(port)/digest",
                                                                    body: HTTPRequestBody(chunks)))
            #expect(String(decoding: try await digest.collect(), as: UTF8.self).hasPrefix("300000 "))
            let put = try await client.execute(HTTPClientRequest(method: "PUT", url: "http://127.0.0.1:\(port)/digest",
                                                                 body: HTTPRequestBody(bytes: [1, 2, 3])))
            #expect(String(decoding: try await put.collect(), as: UTF8.self) == "3")
        }
    }

    @Test func talksOverAUnixSocket() async throws {
        let directory = try TemporaryDirectory()
        let socket = directory.file("test.sock")
        try await TestServer.with(.unixDomainSocket(path: socket)) { _ in
            let response = try await client.execute(HTTPClientRequest(
                url: "http://localhost/hello", options: HTTPConnectionOptions(unixSocketPath: socket)))
            #expect(response.status == 200)
            #expect(String(decoding: try await response.collect(), as: UTF8.self) == "hello")
        }
        let missing = await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPClientRequest(url: "http://localhost/hello",
                                                       options: HTTPConnectionOptions(unixSocketPath: directory.file("none.sock"))))
        }
        #expect(missing?.kind == .connect)
    }

    @Test func streamsAGibibyteBothWaysWithBoundedMemory() async throws {
        let size = 1 << 30
        try await TestServer.with(.hostname("127.0.0.1", port: 0)) { port in
            let before = peakMemoryKiB()
            let download = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/bytes/\(size)"))
            var received = 0
            for try await chunk in download.body { received += chunk.count }
            #expect(received == size)

            let sent = LockedBox(0)
            let block = [UInt8](repeating: 0x5A, count: 1 << 20)
            let upload = ByteStream {
                sent.withLock { count -> [UInt8]? in
                    guard count < size else { return nil }
                    count += block.count
                    return block
                }
            }
            let answer = try await client.execute(HTTPClientRequest(method: "POST", url: "http://127.0.0.1:\(port)/digest",
                                                                    body: HTTPRequestBody(upload, length: Int64(size))))
            let text = String(decoding: try await answer.collect(), as: UTF8.self)
            #expect(text.hasPrefix("\(size) "))
            // The test process is shared with every other suite, so its peak says little beyond
            // "not the whole gibibyte"; the pipes' own bound is checked in ChunkPipeTests.
            let growth = peakMemoryKiB() - before
            #expect(growth < 768 * 1024, "peak memory grew by \(growth) KiB while moving 2 GiB")
        }
    }

    @Test func cancellingTheCallingTaskAbortsTheTransfer() async throws {
        try await TestServer.with(.hostname("127.0.0.1", port: 0)) { port in
            let client = self.client
            let task = Task {
                let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/stall"))
                return try await response.collect()
            }
            try await Task.sleep(for: .milliseconds(300))
            task.cancel()
            let result = await task.result
            #expect(throws: (any Error).self) { try result.get() }
        }
    }

    @Test func failuresSayWhatFailed() async throws {
        let refused = await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:1/nothing"))
        }
        #expect(refused?.kind == .connect)
        #expect(refused?.isTransient == true)
        let invalid = await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPClientRequest(url: "not a url"))
        }
        #expect(invalid?.kind == .invalidRequest)
        try await TestServer.with(.hostname("127.0.0.1", port: 0)) { port in
            let idle = await #expect(throws: HTTPClientError.self) {
                let response = try await client.execute(HTTPClientRequest(
                    url: "http://127.0.0.1:\(port)/stall", options: HTTPConnectionOptions(idleTimeout: .seconds(1))))
                _ = try await response.collect()
            }
            #expect(idle?.kind == .timeout)
        }
    }
}

/// The pipe between a transfer thread and a task holds at most its limit plus one chunk.
@Suite struct ChunkPipeTests {
    @Test func aFastProducerWaitsForASlowConsumer() async throws {
        let pipe = ChunkPipe(limit: 1 << 20)
        let chunk = [UInt8](repeating: 7, count: 64 << 10)
        let producer = Thread {
            for _ in 0..<(32 << 4) { _ = pipe.putBlocking(chunk) }   // 32 MiB
            pipe.finish()
        }
        producer.start()
        var received = 0
        while let next = try await pipe.take() {
            received += next.count
            if received % (4 << 20) == 0 { try await Task.sleep(for: .milliseconds(20)) }   // a slow reader
        }
        #expect(received == 32 << 20)
        #expect(pipe.peak <= (1 << 20) + chunk.count, "up to \(pipe.peak) bytes waited")
        #expect(pipe.peak >= 1 << 20, "the producer did run ahead to the limit")
    }
}
