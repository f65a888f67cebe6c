import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import ViceCore

extension ViceAPI {
    /// `GET /v1/events?kinds=…`: the caller's events as Server-Sent Events (`id:` is the event's
    /// sequence number, `event:` its kind, `data:` its JSON). A client that reconnects with
    /// `Last-Event-ID` (or `?lastEventId=`) gets every retained event after that one first;
    /// without, the stream starts with what happens next. A comment line every 10 s keeps
    /// proxies from closing an idle stream (and finds clients that left); a stream ends after an
    /// hour, and at once when the server shuts down — clients reconnect with `Last-Event-ID`. A
    /// caller disabled or deleted meanwhile loses the stream within 15 s.
    func streamEvents(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let caller = try context.requirePrincipal()
        let query = Query(request: request)
        var kinds: Set<EventKind> = []
        for name in (query.string("kinds") ?? "").split(separator: ",") {
            let kind = EventKind(rawValue: String(name))
            guard EventKind.allCases.contains(kind) else {
                throw ViceError.invalidInput("kinds must name: \(EventKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            kinds.insert(kind)
        }
        // Both are checked; the header (what a reconnecting EventSource sends) wins.
        var resumeFrom: Int64?
        for given in [query.string("lastEventId"), request.headers[HTTPField.Name("Last-Event-ID")!]].compactMap({ $0 }) {
            guard let seq = Int64(given.trimmingCharacters(in: .whitespaces)), seq >= 0 else {
                throw ViceError.invalidInput("Last-Event-ID must be the id of an event (a whole number)")
            }
            resumeFrom = seq
        }
        let start: Int64
        if let resumeFrom { start = resumeFrom } else { start = try await registry.lastEventSeq() }
        let wanted = kinds
        let registry = self.registry
        var headers: HTTPFields = [:]
        headers[.contentType] = "text/event-stream; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "retry: 2000\n\n"))
            var cursor = start
            let opened = ContinuousClock.now
            var idle = opened
            var checked = opened
            // Ended by a graceful shutdown, so streams do not hold the server up.
            let stopping = LockedBox(false)
            try await withGracefulShutdownHandler {
                while !Task.isCancelled, !stopping.withLock({ $0 }), ContinuousClock.now - opened < .seconds(3600) {
                    let (events, through) = try await registry.events(after: cursor, kinds: wanted, owner: caller)
                    for event in events {
                        try await writer.write(ByteBuffer(string: Self.serverSentEvent(event)))
                    }
                    // Caught up only when nothing was read at all: a batch the kinds filtered
                    // away entirely is followed at once by the next.
                    let caughtUp = through == cursor
                    cursor = through
                    if !events.isEmpty { idle = .now }
                    if ContinuousClock.now - idle > .seconds(10) {
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        idle = .now
                    }
                    if ContinuousClock.now - checked > .seconds(15) {
                        guard await registry.mayStillStream(caller) else { break }
                        checked = .now
                    }
                    if caughtUp { await registry.waitForEvents(timeout: .seconds(1)) }
                }
            } onGracefulShutdown: {
                stopping.withLock { $0 = true }
            }
            try await writer.finish(nil)
        })
    }

    static func serverSentEvent(_ event: RegistryEvent) -> String {
        let data = (try? JSONBody.encoder.encode(event.data)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        // JSON without pretty printing has no line breaks, so one data line carries it.
        return "id: \(event.seq)\nevent: \(event.kind.rawValue)\ndata: \(data)\n\n"
    }
}
