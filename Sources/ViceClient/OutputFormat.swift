package import ViceCore
import Foundation

/// How a command prints what it got: a table for people, JSON or YAML for scripts, or only the
/// ids (one per line, for `$(…)` in shell scripts).
package enum OutputFormat: String, Sendable, CaseIterable {
    case table, json, yaml, id

    /// Prints `value` (an object or a list of them). `columns` are the table's: a header and the
    /// field it shows (a dotted path into nested objects).
    package func render(_ value: JSONValue, columns: [(header: String, field: String)]) -> String {
        switch self {
        case .json:
            return ((try? value.encoded(pretty: true)).map { String(decoding: $0, as: UTF8.self) } ?? "null") + "\n"
        case .yaml:
            return YAMLText.document(value)
        case .id:
            let items = value.arrayValue ?? [value]
            return items.compactMap { $0["id"]?.textValue }.map { $0 + "\n" }.joined()
        case .table:
            if case .array(let items) = value {
                return TableText.render(headers: columns.map(\.header),
                                        rows: items.map { item in columns.map { Self.field($0.field, of: item).cell } })
            }
            // One record: its fields, one per line, the table's columns first.
            guard case .object(let fields) = value else { return value.cell + "\n" }
            let first = columns.map(\.field).filter { !$0.contains(".") && fields[$0] != nil }
            let rest = fields.keys.sorted().filter { !first.contains($0) }
            return TableText.render(headers: [], rows: (first + rest).map { [$0, fields[$0]?.cell ?? ""] }, cutting: false)
        }
    }

    static func field(_ path: String, of value: JSONValue) -> JSONValue {
        path.split(separator: ".").reduce(value) { $0[String($1)] ?? .null }
    }
}

/// Columns padded to their widest cell; a long cell is cut with an ellipsis at 60 characters.
enum TableText {
    static func render(headers: [String], rows: [[String]], cutting: Bool = true) -> String {
        let all = (headers.isEmpty ? [] : [headers]) + rows.map { cutting ? $0.map(cut) : $0 }
        guard let width = all.first?.count else { return "" }
        var widths = Array(repeating: 0, count: width)
        for row in all { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n") + (all.isEmpty ? "" : "\n")
    }

    private static func cut(_ cell: String) -> String {
        let flat = cell.replacingOccurrences(of: "\n", with: " ")
        return flat.count > 60 ? String(flat.prefix(59)) + "…" : flat
    }
}

/// YAML for a JSON value: block style, strings quoted when a plain scalar would read otherwise.
enum YAMLText {
    static func document(_ value: JSONValue) -> String {
        var lines: [String] = []
        emit(value, indent: 0, into: &lines, inline: nil)
        return lines.joined(separator: "\n") + "\n"
    }

    private static func emit(_ value: JSONValue, indent: Int, into lines: inout [String], inline prefix: String?) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .object(let fields) where !fields.isEmpty:
            if let prefix { lines.append(prefix) }
            for key in fields.keys.sorted() {
                let field = fields[key]!
                let head = pad + scalar(.string(key)) + ":"
                if isScalar(field) { lines.append(head + " " + scalar(field)) } else { emit(field, indent: indent + 2, into: &lines, inline: head) }
            }
        case .array(let items) where !items.isEmpty:
            if let prefix { lines.append(prefix) }
            for item in items {
                if isScalar(item) {
                    lines.append(pad + "- " + scalar(item))
                } else {
                    var nested: [String] = []
                    emit(item, indent: indent + 2, into: &nested, inline: nil)
                    if let first = nested.first {
                        lines.append(pad + "- " + first.dropFirst(indent + 2))
                        lines += nested.dropFirst()
                    }
                }
            }
        default:
            lines.append((prefix.map { $0 + " " } ?? pad) + scalar(value))
        }
    }

    private static func isScalar(_ value: JSONValue) -> Bool {
        switch value {
        case .object(let fields): fields.isEmpty
        case .array(let items): items.isEmpty
        default: true
        }
    }

    private static func scalar(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number: return value.textValue ?? "0"
        case .object: return "{}"
        case .array: return "[]"
        case .string(let text):
            // Plain only when no YAML reader could take it for anything else: a letter first, then
            // letters, digits and a few marks, and none of YAML 1.1's words for true, false and null.
            let plain = text.first.map { $0.isASCII && $0.isLetter } == true
                && text.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_./ ".unicodeScalars.contains($0)) }
                && text.last != " " && !text.contains(": ") && !text.contains(" #")
                && !["true", "false", "null", "yes", "no", "on", "off", "y", "n"].contains(text.lowercased())
            return plain ? text : quoted(text)
        }
    }
}

/// A double-quoted string that YAML (and JSON) read back as the same text: `"` and `\\`
/// escaped, and every control character, DEL, the C1 range and the Unicode line and paragraph
/// separators as `\\uXXXX` (YAML would refuse some and fold the others into spaces).
func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
            || scalar.value == 0xFEFF:
            out += String(format: "\\u%04X", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
