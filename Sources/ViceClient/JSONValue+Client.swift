package import ViceCore
import Foundation

extension JSONValue {
    /// Decodes a JSON document.
    package static func decode(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    package var string: String? {
        switch self {
        case .string(let text): text
        case .number(let value): value.rounded() == value && abs(value) < 9.0e18 ? String(Int64(value)) : String(value)
        case .bool(let value): String(value)
        default: nil
        }
    }

    package var int64: Int64? {
        if case .number(let value) = self, value.isFinite, abs(value) < 9.0e18 { return Int64(value) }
        return nil
    }

    package var array: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }

    /// Compact JSON with sorted keys, as a request body.
    package func encoded(pretty: Bool = false) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try encoder.encode(self))
    }

    /// A short text for a table cell: strings as they are, anything else as compact JSON.
    package var cell: String {
        switch self {
        case .null: ""
        case .string, .number, .bool: string ?? ""
        default: (try? encoded()).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
    }
}
