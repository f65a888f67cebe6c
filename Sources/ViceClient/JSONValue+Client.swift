package import ViceCore
import Foundation

extension JSONValue {
    /// Decodes a JSON document.
    package static func decode(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    package var int64: Int64? {
        if case .number(let value) = self, value.isFinite, abs(value) < 9.0e18 { return Int64(value) }
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
        case .string, .number, .bool: textValue ?? ""
        default: (try? encoded()).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
    }
}
