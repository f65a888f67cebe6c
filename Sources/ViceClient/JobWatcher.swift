package import ViceCore
import Foundation
import ViceHTTP
import ViceSupport

/// Follows a job to its end through the event stream (`GET /v1/events`), drawing its progress,
/// and reconnecting with `Last-Event-ID` when the stream breaks. The job is read once after the
/// stream opens, so a job that ended before is not waited for.
package struct JobWatcher: Sendable {
    package let client: APIClient

    package init(client: APIClient) {
        self.client = client
    }

    /// Waits for job `id` to finish; answers the finished job. Throws `.jobFailed` with the job's
    /// error when it failed or was cancelled.
    package func wait(for id: String, progress: TransferProgress?) async throws -> JSONValue {
        var lastEventID: String?
        // Streams that broke or ended within seconds, in a row: the pause before the next try
        // grows with them, and ten mean the server keeps turning the stream away.
        var failures = 0
        while true {
            let opened = ContinuousClock.now
            do {
                var headers = [("Accept", "text/event-stream")]
                if let lastEventID { headers.append(("Last-Event-ID", lastEventID)) }
                let response = try await client.send("GET", "/events", query: [("kinds", "job.state,job.progress")], headers: headers)
                // Read after the stream is open: whatever happens from here on arrives as an event.
                let (current, _) = try await client.json("GET", "/jobs/\(id)")
                show(current, progress)
                if let ended = try finished(current, progress) { return ended }
                var parser = ServerSentEvents()
                for try await chunk in response.body {
                    for event in try parser.feed(chunk) {
                        if let eventID = event.id { lastEventID = eventID }
                        guard let data = try? JSONValue.decode(Array(event.data.utf8)), data["id"]?.textValue == id else { continue }
                        show(data, progress)
                        if let ended = try finished(data, progress) { return ended }
                    }
                }
                // The stream ended (an hour passed, the server restarted): pick up where it stopped.
            } catch let error as ClientError where error.kind == .unreachable {
                if failures >= 10 { throw error }
            } catch let error as HTTPClientError {
                if failures >= 10 { throw ClientError(.unreachable, "the event stream keeps breaking: \(error.message)") }
            }
            failures = ContinuousClock.now - opened < .seconds(5) ? failures + 1 : 0
            if failures >= 10 {
                throw ClientError(.unreachable, "the registry keeps ending the event stream at once; job \(id) is not followed further")
            }
            try await Task.sleep(for: .seconds(max(1, min(10, failures))))
        }
    }

    private func show(_ job: JSONValue, _ progress: TransferProgress?) {
        guard let progress else { return }
        progress.update(done: job["bytesDone"]?.int64 ?? 0, total: job["bytesTotal"]?.int64,
                        phase: job["phase"]?.textValue ?? job["state"]?.textValue)
    }

    /// The job, when it is finished; throws when it finished badly.
    private func finished(_ job: JSONValue, _ progress: TransferProgress?) throws -> JSONValue? {
        switch job["state"]?.textValue {
        case "succeeded":
            progress?.finish()
            return job
        case "failed", "cancelled":
            let state = job["state"]?.textValue ?? "failed"
            progress?.finish(message: "job \(state)")
            let reason = job["error"]?["message"]?.textValue ?? job["note"]?.textValue ?? "no reason given"
            throw ClientError(.jobFailed, "job \(job["id"]?.textValue ?? "?") (\(job["kind"]?.textValue ?? "?")) \(state): \(reason)")
        default:
            return nil
        }
    }
}

/// The `text/event-stream` format, fed in chunks: `id:`, `event:`, `data:` lines, an event per
/// blank line; comments (`:`) and `retry:` are skipped. A line or an event longer than
/// `limit` (1 MiB) is refused: a server cannot make the client hold an endless line.
package struct ServerSentEvents: Sendable {
    package static let limit = 1 << 20

    package struct Event: Sendable, Equatable {
        package var id: String?
        package var kind: String?
        package var data: String

        package init(id: String? = nil, kind: String? = nil, data: String) {
            self.id = id
            self.kind = kind
            self.data = data
        }
    }

    private var buffer: [UInt8] = []
    private var current = Event(data: "")
    private var hasData = false

    package init() {}

    package mutating func feed(_ chunk: [UInt8]) throws -> [Event] {
        buffer += chunk
        var events: [Event] = []
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            var line = String(decoding: buffer[..<newline], as: UTF8.self)
            buffer.removeSubrange(...newline)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty {
                if hasData { events.append(current) }
                current = Event(data: "")
                hasData = false
                continue
            }
            if line.hasPrefix(":") { continue }
            let (field, value) = line.firstIndex(of: ":").map { index -> (String, String) in
                var value = String(line[line.index(after: index)...])
                if value.hasPrefix(" ") { value.removeFirst() }
                return (String(line[..<index]), value)
            } ?? (line, "")
            switch field {
            case "id": current.id = value
            case "event": current.kind = value
            case "data":
                current.data += (hasData ? "\n" : "") + value
                hasData = true
                guard current.data.utf8.count <= Self.limit else {
                    throw ClientError(.refused, "the registry sent an event larger than \(Self.limit) bytes")
                }
            default: break
            }
        }
        guard buffer.count <= Self.limit else {
            throw ClientError(.refused, "the registry sent an event stream line longer than \(Self.limit) bytes")
        }
        return events
    }
}
