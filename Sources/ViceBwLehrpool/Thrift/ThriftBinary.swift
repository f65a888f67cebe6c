import Foundation

/// Thrift's binary protocol: values to bytes and back, big-endian, with the limits the
/// bwLehrpool servers apply (12 MiB per string, 12 Mi elements per container).
package enum ThriftBinary {
    package static let maxStringLength = 12 << 20
    package static let maxContainerCount = 12 << 20
    static let maxDepth = 64

    /// Message types of the strict message header.
    package enum MessageType: UInt8, Sendable { case call = 1, reply = 2, exception = 3, oneway = 4 }

    // MARK: writing

    package static func message(_ type: MessageType, name: String, sequenceID: Int32, body: ThriftStruct) -> [UInt8] {
        var out: [UInt8] = []
        append(Int32(bitPattern: 0x8001_0000 | UInt32(type.rawValue)), to: &out)
        append(Int32(name.utf8.count), to: &out)
        out += Array(name.utf8)
        append(sequenceID, to: &out)
        write(.structure(body), to: &out)
        return out
    }

    package static func write(_ value: ThriftValue, to out: inout [UInt8]) {
        switch value {
        case .bool(let v): out.append(v ? 1 : 0)
        case .byte(let v): out.append(UInt8(bitPattern: v))
        case .double(let v): append(Int64(bitPattern: v.bitPattern), to: &out)
        case .i16(let v): append(v, to: &out)
        case .i32(let v): append(v, to: &out)
        case .i64(let v): append(v, to: &out)
        case .binary(let bytes):
            append(Int32(bytes.count), to: &out)
            out += bytes
        case .structure(let s):
            for (id, field) in s.fields {
                out.append(field.type.rawValue)
                append(id, to: &out)
                write(field, to: &out)
            }
            out.append(ThriftType.stop.rawValue)
        case .map(let k, let v, let items):
            out.append(k.rawValue)
            out.append(v.rawValue)
            append(Int32(items.count / 2), to: &out)
            items.forEach { write($0, to: &out) }
        case .set(let t, let items), .list(let t, let items):
            out.append(t.rawValue)
            append(Int32(items.count), to: &out)
            items.forEach { write($0, to: &out) }
        }
    }

    static func append<I: FixedWidthInteger>(_ value: I, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out += $0 }
    }

    // MARK: reading

    /// A message read from one frame.
    package struct Message: Sendable {
        package var type: MessageType
        package var name: String
        package var sequenceID: Int32
        package var body: ThriftStruct
    }

    package static func readMessage(_ bytes: [UInt8]) throws -> Message {
        var reader = Reader(bytes: bytes)
        let header = UInt32(bitPattern: try reader.integer(Int32.self))
        guard header & 0xFFFF_0000 == 0x8001_0000, let type = MessageType(rawValue: UInt8(header & 0xFF)) else {
            throw ThriftError.protocolError("not a strict binary message header (0x\(String(header, radix: 16)))")
        }
        let name = String(decoding: try reader.binary(), as: UTF8.self)
        let sequenceID = try reader.integer(Int32.self)
        guard case .structure(let body) = try reader.value(.structure, depth: 0) else {
            throw ThriftError.protocolError("the message has no struct")
        }
        return Message(type: type, name: name, sequenceID: sequenceID, body: body)
    }

    struct Reader {
        let bytes: [UInt8]
        var position = 0

        mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, position + count <= bytes.count else {
                throw ThriftError.protocolError("the message ends early (wanted \(count) bytes at \(position) of \(bytes.count))")
            }
            defer { position += count }
            return bytes[position..<position + count]
        }

        mutating func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
            var value: I = 0
            for byte in try take(MemoryLayout<I>.size) { value = value << 8 | I(truncatingIfNeeded: byte) }
            return value
        }

        mutating func binary() throws -> [UInt8] {
            let count = Int(try integer(Int32.self))
            guard count >= 0, count <= ThriftBinary.maxStringLength else {
                throw ThriftError.protocolError("a string of \(count) bytes exceeds the limit")
            }
            return Array(try take(count))
        }

        mutating func type() throws -> ThriftType {
            let code = try integer(UInt8.self)
            guard let type = ThriftType(rawValue: code) else { throw ThriftError.protocolError("unknown type code \(code)") }
            return type
        }

        mutating func count() throws -> Int {
            let count = Int(try integer(Int32.self))
            guard count >= 0, count <= ThriftBinary.maxContainerCount else {
                throw ThriftError.protocolError("a container of \(count) elements exceeds the limit")
            }
            // Every element takes at least one byte: a count the rest of the frame cannot hold is a lie.
            guard count <= bytes.count - position else {
                throw ThriftError.protocolError("a container claims \(count) elements but only \(bytes.count - position) bytes follow")
            }
            return count
        }

        mutating func value(_ type: ThriftType, depth: Int) throws -> ThriftValue {
            guard depth < ThriftBinary.maxDepth else { throw ThriftError.protocolError("structures nest too deep") }
            switch type {
            case .stop: throw ThriftError.protocolError("STOP where a value belongs")
            case .bool: return .bool(try integer(UInt8.self) != 0)
            case .byte: return .byte(try integer(Int8.self))
            case .double: return .double(Double(bitPattern: UInt64(bitPattern: try integer(Int64.self))))
            case .i16: return .i16(try integer(Int16.self))
            case .i32: return .i32(try integer(Int32.self))
            case .i64: return .i64(try integer(Int64.self))
            case .string: return .binary(try binary())
            case .structure:
                var fields: [(Int16, ThriftValue?)] = []
                while true {
                    let fieldType = try self.type()
                    if fieldType == .stop { break }
                    let id = try integer(Int16.self)
                    fields.append((id, try value(fieldType, depth: depth + 1)))
                }
                return .structure(ThriftStruct(fields))
            case .map:
                let k = try self.type(), v = try self.type(), n = try count()
                var items: [ThriftValue] = []
                for _ in 0..<n {
                    items.append(try value(k, depth: depth + 1))
                    items.append(try value(v, depth: depth + 1))
                }
                return .map(key: k, value: v, items)
            case .set, .list:
                let t = try self.type(), n = try count()
                var items: [ThriftValue] = []
                items.reserveCapacity(min(n, 1024))
                for _ in 0..<n { items.append(try value(t, depth: depth + 1)) }
                return type == .set ? .set(t, items) : .list(t, items)
            }
        }
    }
}
