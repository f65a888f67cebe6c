/// Thrift's wire types (binary protocol).
package enum ThriftType: UInt8, Sendable {
    case stop = 0, bool = 2, byte = 3, double = 4, i16 = 6, i32 = 8, i64 = 10, string = 11, structure = 12, map = 13, set = 14, list = 15
}

/// A decoded Thrift value. Structs stay generic (field id → value), so that readers tolerate
/// absent fields and skip unknown ones; typed models read what they know from them.
package indirect enum ThriftValue: Sendable, Equatable {
    case bool(Bool)
    case byte(Int8)
    case double(Double)
    case i16(Int16)
    case i32(Int32)
    case i64(Int64)
    case binary([UInt8])
    case structure(ThriftStruct)
    /// Keys and values alternate: k0, v0, k1, v1, …
    case map(key: ThriftType, value: ThriftType, [ThriftValue])
    case set(ThriftType, [ThriftValue])
    case list(ThriftType, [ThriftValue])

    package var type: ThriftType {
        switch self {
        case .bool: .bool
        case .byte: .byte
        case .double: .double
        case .i16: .i16
        case .i32: .i32
        case .i64: .i64
        case .binary: .string
        case .structure: .structure
        case .map: .map
        case .set: .set
        case .list: .list
        }
    }

    package static func string(_ text: String) -> ThriftValue { .binary(Array(text.utf8)) }

    package static func strings(_ items: [String]) -> ThriftValue { .list(.string, items.map { .string($0) }) }

    package static func binaries(_ items: [[UInt8]]) -> ThriftValue { .list(.string, items.map { .binary($0) }) }
}

/// A struct: fields in the order they were written (Java writes IDL order, not ascending ids).
package struct ThriftStruct: Sendable, Equatable {
    package var fields: [(id: Int16, value: ThriftValue)]

    package init(_ fields: [(Int16, ThriftValue?)] = []) {
        self.fields = fields.compactMap { id, value in value.map { (id, $0) } }
    }

    package static func == (lhs: ThriftStruct, rhs: ThriftStruct) -> Bool {
        lhs.fields.count == rhs.fields.count && zip(lhs.fields, rhs.fields).allSatisfy { $0.id == $1.id && $0.value == $1.value }
    }

    package subscript(id: Int16) -> ThriftValue? {
        fields.first { $0.id == id }?.value
    }

    package func string(_ id: Int16) -> String? {
        if case .binary(let bytes)? = self[id] { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }

    package func binary(_ id: Int16) -> [UInt8]? {
        if case .binary(let bytes)? = self[id] { return bytes }
        return nil
    }

    package func i64(_ id: Int16) -> Int64? {
        switch self[id] {
        case .i64(let value)?: value
        case .i32(let value)?: Int64(value)
        default: nil
        }
    }

    package func i32(_ id: Int16) -> Int32? {
        if case .i32(let value)? = self[id] { return value }
        return nil
    }

    package func bool(_ id: Int16) -> Bool? {
        if case .bool(let value)? = self[id] { return value }
        return nil
    }

    package func structure(_ id: Int16) -> ThriftStruct? {
        if case .structure(let value)? = self[id] { return value }
        return nil
    }

    package func list(_ id: Int16) -> [ThriftValue] {
        switch self[id] {
        case .list(_, let items)?, .set(_, let items)?: items
        default: []
        }
    }

    package func structs(_ id: Int16) -> [ThriftStruct] {
        list(id).compactMap { if case .structure(let value) = $0 { value } else { nil } }
    }

    package func strings(_ id: Int16) -> [String] {
        list(id).compactMap { if case .binary(let bytes) = $0 { String(decoding: bytes, as: UTF8.self) } else { nil } }
    }

    package func binaries(_ id: Int16) -> [[UInt8]] {
        list(id).compactMap { if case .binary(let bytes) = $0 { bytes } else { nil } }
    }
}
