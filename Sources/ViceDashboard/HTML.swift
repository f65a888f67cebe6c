import Foundation
import ViceCore

/// Markup that is already safe to send: built only from escaped text and the helpers below.
struct HTML: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    private(set) var text: String

    init(raw: String) { text = raw }
    init(stringLiteral value: String) { text = value }

    init(stringInterpolation: Interpolation) { text = stringInterpolation.text }

    struct Interpolation: StringInterpolationProtocol {
        var text = ""
        init(literalCapacity: Int, interpolationCount: Int) { text.reserveCapacity(literalCapacity * 2) }
        mutating func appendLiteral(_ literal: String) { text += literal }
        /// Text is escaped; markup goes in as it is.
        mutating func appendInterpolation(_ value: String?) { text += HTML.escape(value ?? "") }
        mutating func appendInterpolation(_ value: Int) { text += String(value) }
        mutating func appendInterpolation(_ value: Int64) { text += String(value) }
        mutating func appendInterpolation(_ markup: HTML) { text += markup.text }
        mutating func appendInterpolation(_ parts: [HTML]) { text += parts.map(\.text).joined() }
    }

    var description: String { text }

    /// Escaped byte by byte: the five characters are ASCII, and UTF-8 never uses their bytes
    /// inside another character.
    static func escape(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count + 16)
        for byte in utf8 {
            switch byte {
            case 0x26: out += Array("&amp;".utf8)
            case 0x3C: out += Array("&lt;".utf8)
            case 0x3E: out += Array("&gt;".utf8)
            case 0x22: out += Array("&quot;".utf8)
            case 0x27: out += Array("&#39;".utf8)
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A query string value or path segment.
    static func urlEncode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? ""
    }
}

/// Small pieces the pages share.
enum Markup {
    static func table(caption: String, headers: [String], rows: [[HTML]], empty: String) -> HTML {
        guard !rows.isEmpty else { return "<p class=\"empty\">\(empty)</p>" }
        let head = headers.map { HTML("<th scope=\"col\">\($0)</th>") }
        let body = rows.map { row in HTML("<tr>\(row.map { HTML("<td>\($0)</td>") })</tr>") }
        return """
            <div class="scroll"><table><caption>\(caption)</caption><thead><tr>\(head)</tr></thead><tbody>\(body)</tbody></table></div>
            """
    }

    static func field(_ label: String, name: String, value: String? = nil, type: String = "text", required: Bool = false,
                      hint: String? = nil, id: String? = nil) -> HTML {
        let id = id ?? "f-" + name.replacingOccurrences(of: ".", with: "-")
        let hintID = id + "-hint"
        let describedBy: HTML = hint == nil ? "" : HTML(raw: " aria-describedby=\"\(HTML.escape(hintID))\"")
        let hintText: HTML = hint.map { HTML("<small id=\"\(hintID)\">\($0)</small>") } ?? ""
        return """
            <div class="field"><label for="\(id)">\(label)\(required ? " (required)" : "")</label>\
            <input id="\(id)" name="\(name)" type="\(type)" value="\(value)"\(HTML(raw: required ? " required" : ""))\(describedBy)>\(hintText)</div>
            """
    }

    static func select(_ label: String, name: String, options: [(value: String, label: String)], selected: String? = nil,
                       id: String? = nil) -> HTML {
        let id = id ?? "f-" + name.replacingOccurrences(of: ".", with: "-")
        let items = options.map { option in
            HTML("<option value=\"\(option.value)\"\(HTML(raw: option.value == selected ? " selected" : ""))>\(option.label)</option>")
        }
        return "<div class=\"field\"><label for=\"\(id)\">\(label)</label><select id=\"\(id)\" name=\"\(name)\">\(items)</select></div>"
    }

    /// A button that calls the API through the dashboard's script (`data-method`, `data-path`).
    static func apiButton(_ label: String, method: String, path: String, confirm: String? = nil, then: String = "reload",
                          style: String = "") -> HTML {
        let confirmAttribute: HTML = confirm.map { HTML(" data-confirm=\"\($0)\"") } ?? ""
        return """
            <button type="button" class="\(style)" data-method="\(method)" data-path="\(path)" data-then="\(then)"\(confirmAttribute)>\(label)</button>
            """
    }

    /// The link to the next page of a list, when there is one.
    static func nextPage(_ link: String?) -> HTML {
        link.map { HTML("<p><a class=\"button\" rel=\"next\" href=\"\($0)\">Next page</a></p>") } ?? ""
    }

    static func status(_ text: String?) -> HTML {
        "<span class=\"status status-\(text ?? "unknown")\">\(text ?? "—")</span>"
    }

    static func bytes(_ count: Int64?) -> String {
        count?.byteCountText ?? "—"
    }

    static func date(_ date: Date?) -> String {
        guard let date else { return "—" }
        return date.formatted(dateStyle) + " UTC"
    }

    /// 2026-12-01 23:37:23, in UTC.
    private static let dateStyle = Date.VerbatimFormatStyle(
        format: "\(year: .defaultDigits)-\(month: .twoDigits)-\(day: .twoDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits)",
        timeZone: TimeZone(identifier: "UTC")!, calendar: Calendar(identifier: .gregorian))
}
