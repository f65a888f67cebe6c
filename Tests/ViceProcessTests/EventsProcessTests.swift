import Crypto
import Foundation
import Testing
import ViceTestSupport

/// Events as a client of the real server sees them: a Server-Sent Events stream read with curl,
/// resumed with Last-Event-ID, and a webhook receiver that fails once and gets the delivery again,
/// signed.
@Suite(.serialized) struct EventsProcessTests {
    struct Event {
        var id: Int
        var kind: String
        var data: [String: Any]
    }

    /// The events of an SSE stream's text.
    static func events(in text: String) -> [Event] {
        text.components(separatedBy: "\n\n").compactMap { block in
            var id: Int?, kind: String?, data: [String: Any]?
            for line in block.split(separator: "\n") {
                if line.hasPrefix("id: ") { id = Int(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { kind = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") {
                    data = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any]
                }
            }
            guard let id, let kind, let data else { return nil }
            return Event(id: id, kind: kind, data: data)
        }
    }

    /// An events stream read by curl into a file, for as long as the test needs it: a fixed
    /// window is too short when CI is busy (an import took longer than 6 s there).
    final class Listener: @unchecked Sendable {
        let process = Process()
        let file: URL

        init(_ server: ServerProcess, in directory: URL, headers: [String] = [], query: String = "",
             as credentials: String = "admin:admin-password") throws {
            file = directory.appendingPathComponent("stream-\(UUID()).txt")
            // --max-time only bounds a test that fails; the stream itself never ends.
            var arguments = ["curl", "-sN", "--max-time", "120", "-o", file.path, "-u", credentials]
            for header in headers { arguments += ["-H", header] }
            arguments.append("http://127.0.0.1:\(server.port)/v1/events\(query)")
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments
            try process.run()
        }

        var text: String { (try? String(contentsOf: file, encoding: .utf8)) ?? "" }
        var events: [Event] { EventsProcessTests.events(in: text) }

        /// The text once `condition` holds for the events read so far (or after a minute).
        func read(until condition: ([Event]) -> Bool) async -> String {
            _ = await eventually(timeout: .seconds(60)) { condition(events) }
            return await stop()
        }

        func stop() async -> String {
            // SIGKILL: a child started from a test thread inherits its blocked signals, SIGTERM
            // among them, and would run on to --max-time.
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            await process.finished()
            return text
        }
    }

    @Test func aStreamShowsAnImportsChangesInOrderAndResumesAfterTheLastEventItSaw() async throws {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url)
        let server = try await ServerProcess(directory: directory.url)
        let environment = try await server.slowEnvironment(cloud: "events-\(UUID())", chunkDelayMs: 100)
        _ = try await server.object("POST", "/v1/user", json: #"{"username": "mallory", "password": "mallory-password-1"}"#)
        let watching = try Listener(server, in: directory.url, query: "?kinds=image.status,job.state")
        let others = try Listener(server, in: directory.url, as: "mallory:mallory-password-1")
        // Both streams are open before anything happens: each has said its retry interval.
        #expect(await eventually { watching.text.hasPrefix("retry:") && others.text.hasPrefix("retry:") })
        let image = try await server.object("POST", "/v1/images", json: """
            {"title": "watched", "originEnvironment": "\(environment)", "environmentReference": "sample-raw"}
            """)
        let id = try #require(image["id"] as? String)
        let events = Self.events(in: await watching.read { events in
            events.contains { $0.kind == "job.state" && $0.data["imageId"] as? String == id && $0.data["state"] as? String == "succeeded" }
                && events.contains { $0.kind == "image.status" && $0.data["id"] as? String == id && $0.data["status"] as? String == "active" }
        })
        let mine = events.filter { $0.data["id"] as? String == id }
        #expect(mine.map { $0.data["status"] as? String } == ["queued", "importing", "active"], "\(events.map { ($0.kind, $0.data) })")
        let job = events.filter { $0.kind == "job.state" && $0.data["imageId"] as? String == id }.compactMap { $0.data["state"] as? String }
        #expect(job == ["queued", "running", "succeeded"], "\(job)")
        #expect(events.map(\.id) == events.map(\.id).sorted() && Set(events.map(\.id)).count == events.count, "ids rise")
        #expect(events.allSatisfy { $0.kind == "image.status" || $0.kind == "job.state" }, "only the kinds asked for")
        // The other user's stream stayed open all along and was told nothing.
        let othersText = await others.stop()
        #expect(othersText.hasPrefix("retry: 2000") && Self.events(in: othersText).isEmpty, "another user sees none of it: \(othersText)")

        // A client that lost the connection after the first event gets the rest again, in order.
        let first = try #require(events.first)
        let resuming = try Listener(server, in: directory.url, headers: ["Last-Event-ID: \(first.id)"], query: "?kinds=image.status,job.state")
        let resumed = Self.events(in: await resuming.read { $0.count >= events.count - 1 })
        #expect(resumed.map(\.id) == Array(events.dropFirst()).map(\.id), "resumed: \(resumed.map(\.id)), first: \(events.map(\.id))")
        let invalid = try await server.request("GET", "/v1/events?lastEventId=yesterday")
        #expect(invalid.status == 405)
        server.signal(SIGTERM)
        _ = try await server.waitForExit()
    }

    @Test func aWebhookThatFailsOnceGetsTheSignedDeliveryAgain() async throws {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url)
        let server = try await ServerProcess(directory: directory.url)
        let log = directory.url.appendingPathComponent("received.jsonl")
        let receiver = Process()
        receiver.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peers/webhook_receiver.py")
        receiver.arguments = [script.path, log.path, "1"]
        let output = Pipe(), input = Pipe()
        receiver.standardOutput = output
        receiver.standardInput = input
        try receiver.run()
        defer {
            try? input.fileHandleForWriting.close()
            receiver.terminate()
        }
        let line = try await BlockingRun.read(line: output.fileHandleForReading)
        let port = try #require(Int(line.replacingOccurrences(of: "listening ", with: "")), "receiver said: \(line)")

        let secret = "a secret of twenty-four"
        let hook = try await server.object("POST", "/v1/webhooks", json: """
            {"url": "http://127.0.0.1:\(port)/hook", "secret": "\(secret)", "events": ["image.status"]}
            """)
        #expect(hook["secret"] == nil, "the secret is never answered")
        let hookID = try #require(hook["id"] as? String)
        let image = try await server.object("POST", "/v1/images", json: #"{"title": "announced", "contenttype": "disk-raw"}"#)
        let imageID = try #require(image["id"] as? String)

        // The first delivery gets a 500; the same delivery comes again (backing off 2 s).
        var received: [[String: Any]] = []
        #expect(await eventually(timeout: .seconds(30)) {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            received = text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            return received.contains { $0["status"] as? Int == 200 }
        })
        let failed = try #require(received.first)
        let delivered = try #require(received.first { $0["status"] as? Int == 200 })
        #expect(failed["status"] as? Int == 500)
        func header(_ request: [String: Any], _ name: String) -> String? {
            (request["headers"] as? [String: String])?.first { $0.key.lowercased() == name.lowercased() }?.value
        }
        #expect(header(failed, "X-Vice-Delivery") == header(delivered, "X-Vice-Delivery"), "the same delivery, again")
        #expect(failed["body"] as? String == delivered["body"] as? String)
        let body = try #require(delivered["body"] as? String)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        #expect(header(delivered, "X-Vice-Signature") == "sha256=" + Data(mac).map { String(format: "%02x", $0) }.joined())
        #expect(header(delivered, "X-Vice-Event") == "image.status")
        let event = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(event["type"] as? String == "image.status" && event["subject"] as? String == imageID)
        #expect((event["data"] as? [String: Any])?["status"] as? String == "queued")

        // The delivery log shows the two tries.
        let deliveries = try await server.request("GET", "/v1/webhooks/\(hookID)/deliveries")
        let jobs = try #require(deliveries.body as? [[String: Any]])
        let first = try #require(jobs.last)
        #expect(first["state"] as? String == "succeeded" && first["attempts"] as? Int == 2, "\(jobs)")
        #expect(first["webhookId"] as? String == hookID)

        // A user's webhook may not point at this host.
        _ = try await server.object("POST", "/v1/user", json: #"{"username": "mallory", "password": "mallory-password-1"}"#)
        let refused = try await server.request("POST", "/v1/webhooks", user: "mallory", password: "mallory-password-1", json: """
            {"url": "http://127.0.0.1:\(port)/hook", "secret": "\(secret)"}
            """)
        #expect(refused.status == 405)
        server.signal(SIGTERM)
        _ = try await server.waitForExit()
    }
}

extension BlockingRun {
    /// The first line `handle` gives, read off the cooperative pool.
    static func read(line handle: FileHandle) async throws -> String {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var bytes: [UInt8] = []
                while true {
                    let byte = handle.readData(ofLength: 1)
                    guard let first = byte.first, first != 0x0A else { break }
                    bytes.append(first)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
    }
}
