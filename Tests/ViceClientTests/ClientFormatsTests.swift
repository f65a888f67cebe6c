import Foundation
import Testing
import ViceClient
import ViceConfig
import ViceCore
import ViceTestSupport

/// The client's formats on their own: the event stream parser fed in awkward pieces, YAML and
/// table output, and the profile file.
@Suite struct ClientFormatsTests {
    @Test func aServerCannotMakeTheClientHoldAnEndlessLineOrEvent() throws {
        var parser = ServerSentEvents()
        let line = [UInt8](repeating: UInt8(ascii: "x"), count: 64 << 10)
        #expect(throws: ClientError.self) {
            for _ in 0..<20 { _ = try parser.feed(line) }   // 1.25 MiB, no line break
        }
        var events = ServerSentEvents()
        let dataLine = Array("data: ".utf8) + [UInt8](repeating: UInt8(ascii: "y"), count: 64 << 10) + [UInt8(ascii: "\n")]
        #expect(throws: ClientError.self) {
            for _ in 0..<20 { _ = try events.feed(dataLine) }   // one event of 1.25 MiB, never ended
        }
    }

    @Test func eventsSplitAnywhereComeOutWhole() throws {
        let text = "retry: 2000\n\n: keep-alive\n\nid: 7\nevent: job.state\ndata: {\"id\":\"j1\",\"state\":\"running\"}\n\n"
            + "id: 8\r\nevent: job.progress\r\ndata: line one\r\ndata: line two\r\n\r\n"
        let bytes = Array(text.utf8)
        for cut in [1, 2, 3, 7, 13, bytes.count] {
            var parser = ServerSentEvents()
            var events: [ServerSentEvents.Event] = []
            for start in stride(from: 0, to: bytes.count, by: cut) {
                events += try parser.feed(Array(bytes[start..<min(start + cut, bytes.count)]))
            }
            #expect(events == [
                .init(id: "7", kind: "job.state", data: #"{"id":"j1","state":"running"}"#),
                .init(id: "8", kind: "job.progress", data: "line one\nline two"),
            ], "pieces of \(cut) bytes")
        }
    }

    @Test func yamlOutputReadsBackAsTheSameValues() throws {
        let value: JSONValue = .array([.object([
            "title": .string("Renamed disk"), "size": .number(65536), "imported": .bool(true), "note": .null,
            "tricky": .array([.string("yes"), .string("-dash"), .string("1.0.0"), .string("a: b"), .string(" padded"), .string("#hash"), .string(""),
                              .string("@at"), .string("2024-01-01"), .string("line\u{2028}break"), .string("bell\u{7}"), .string("c1\u{85}"),
                              .string("quote \" and \\ backslash"), .string("ünïcode")]),
            "huge": .number(1e20),
            "specifics": .object(["os": .string("linux"), "nested": .object(["deep": .array([.number(1.5)])])]),
            "members": .array([]), "empty": .object([:]),
        ])])
        let text = OutputFormat.yaml.render(value, columns: [])
        struct Wrapper: Decodable { var items: [JSONValue] }
        let indented = "items:\n" + text.split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 }.joined(separator: "\n")
        let decoded = try YAMLDecoder(environment: [:]).decode(Wrapper.self, from: indented, file: "output.yaml")
        #expect(decoded.items == value.arrayValue, "\(text)")
        #expect(!text.contains("\u{2028}") && !text.contains("\u{85}") && !text.contains("\u{7}"), "control characters are escaped")
        #expect(OutputFormat.table.render(value, columns: [("HUGE", "huge")]).contains("1e+20"), "no trap on numbers past Int64")
    }

    @Test func tablesAlignColumnsAndRecordsListEveryField() {
        let rows: JSONValue = .array([
            .object(["id": .string("a"), "title": .string("short"), "status": .string("active")]),
            .object(["id": .string("bbbb"), "title": .string(String(repeating: "x", count: 80))]),
        ])
        let table = OutputFormat.table.render(rows, columns: [("ID", "id"), ("TITLE", "title"), ("STATUS", "status")])
        let lines = table.split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("ID    TITLE"))
        #expect(lines[2].contains("…") && !lines[2].contains(String(repeating: "x", count: 61)), "long cells are cut")
        let record = OutputFormat.table.render(.object(["id": .string("a"), "checksum": .string(String(repeating: "f", count: 71))]),
                                               columns: [("ID", "id")])
        #expect(record.hasPrefix("id ") && record.contains(String(repeating: "f", count: 71)), "a record shows values whole")
    }

    @Test func profilesRoundTripPrivately() throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("vice/config.yaml").path
        var profiles = ClientProfiles()
        profiles.current = "lab: \"one\""
        profiles.profiles["lab: \"one\""] = ClientProfile(url: "https://vice.example.org", user: "ünïcode", token: "vice_a_b#c: d")
        profiles.profiles["other"] = ClientProfile(url: "http://127.0.0.1:8080", user: "admin", password: "p@ss word\\", insecure: true)
        try profiles.save(to: path)
        #expect(try ClientProfiles.load(from: path) == profiles)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        #expect(try ClientProfiles.load(from: directory.url.appendingPathComponent("none.yaml").path) == ClientProfiles())
        #expect(ClientProfiles.path(environment: ["HOME": "/home/u"]) == "/home/u/.config/vice/config.yaml")
        #expect(ClientProfiles.path(environment: ["HOME": "/home/u", "XDG_CONFIG_HOME": "/x"]) == "/x/vice/config.yaml")
    }

    @Test func theProgressLineSaysBytesRateAndTimeLeft() {
        #expect(Int64(512).byteCountText == "512 B")
        #expect(Int64(3 << 29).byteCountText == "1.5 GiB")
        let off = TransferProgress(label: "x", total: 10, enabled: false)
        off.update(done: 5)
        off.finish()
        #expect(!off.isEnabled)
    }
}
