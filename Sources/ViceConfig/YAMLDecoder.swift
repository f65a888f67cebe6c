import Foundation

/// Decodes `Decodable` values from YAML. Every error names the file, line and column; keys that
/// the decoded types never read are errors ("unknown key"), so a typo cannot silently fall back to
/// a default.
package struct YAMLDecoder {
    package var environment: [String: String]

    package init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    package func decode<T: Decodable>(_ type: T.Type, from text: String, file: String) throws -> T {
        let root = try YAMLParser(file: file, environment: environment).parse(text)
        let decoder = NodeDecoder(node: root, codingPath: [], file: file)
        let value: T
        do {
            value = try T(from: decoder)
        } catch let error as ConfigError {
            throw error
        } catch let error as DecodingError {
            throw Self.locate(error, root: root, file: file)
        }
        if let unknown = Self.firstUnreadKey(in: root) {
            var reason = "unknown key '\(unknown.key)'"
            if !unknown.expected.isEmpty { reason += " (expected one of: \(unknown.expected.joined(separator: ", ")))" }
            throw ConfigError(file: file, mark: unknown.mark, reason: reason)
        }
        return value
    }

    package func decode<T: Decodable>(_ type: T.Type, fromFile path: String) throws -> T {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigError(file: path, mark: nil, reason: "cannot read the file: \(error.localizedDescription)")
        }
        return try decode(type, from: text, file: path)
    }

    /// Maps a `DecodingError` thrown by a type's own validation to the node it is about.
    static func locate(_ error: DecodingError, root: YAMLNode, file: String) -> ConfigError {
        let (path, reason): ([any CodingKey], String)
        switch error {
        case .dataCorrupted(let context): (path, reason) = (context.codingPath, context.debugDescription)
        case .keyNotFound(let key, let context): (path, reason) = (context.codingPath, "missing key '\(key.stringValue)'")
        case .typeMismatch(_, let context): (path, reason) = (context.codingPath, context.debugDescription)
        case .valueNotFound(_, let context): (path, reason) = (context.codingPath, context.debugDescription)
        @unknown default: (path, reason) = ([], "\(error)")
        }
        var node = root
        for key in path {
            if let index = key.intValue, case .sequence(let items) = node.kind, items.indices.contains(index) {
                node = items[index]
            } else if let child = node.value(forKey: key.stringValue) {
                node = child
            } else {
                break
            }
        }
        let name = path.map(\.stringValue).joined(separator: ".")
        return ConfigError(file: file, mark: node.mark, reason: name.isEmpty ? reason : "\(name): \(reason)")
    }

    static func firstUnreadKey(in node: YAMLNode) -> (key: String, mark: SourceMark, expected: [String])? {
        switch node.kind {
        case .scalar:
            return nil
        case .sequence(let items):
            for item in items { if let found = firstUnreadKey(in: item) { return found } }
            return nil
        case .mapping(let pairs):
            for pair in pairs {
                if !node.readAllKeys && !node.readKeys.contains(pair.key) {
                    return (pair.key, pair.keyMark, node.expectedKeys)
                }
                if let found = firstUnreadKey(in: pair.value) { return found }
            }
            return nil
        }
    }
}

struct NodeDecoder: Decoder {
    let node: YAMLNode
    let codingPath: [any CodingKey]
    let file: String
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func fail(_ reason: String, at node: YAMLNode? = nil) -> ConfigError {
        let name = codingPath.map(\.stringValue).joined(separator: ".")
        return ConfigError(file: file, mark: (node ?? self.node).mark, reason: name.isEmpty ? reason : "\(name): \(reason)")
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .mapping = node.kind else {
            if node.isNull { return KeyedDecodingContainer(KeyedContainer<Key>(decoder: self, emptyMapping: true)) }
            throw fail("expected a mapping, found \(node.kindName)")
        }
        if let all = Key.self as? any CaseIterable.Type {
            node.expectedKeys = (all.allCases as any Collection).compactMap { ($0 as? Key)?.stringValue }
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(decoder: self, emptyMapping: false))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .sequence(let items) = node.kind else {
            if node.isNull { return UnkeyedContainer(decoder: self, items: []) }
            throw fail("expected a list, found \(node.kindName)")
        }
        return UnkeyedContainer(decoder: self, items: items)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueContainer(decoder: self)
    }

    func child(_ node: YAMLNode, key: any CodingKey) -> NodeDecoder {
        NodeDecoder(node: node, codingPath: codingPath + [key], file: file)
    }

    // MARK: scalars

    func scalar() throws -> (String, plain: Bool) {
        guard case .scalar(let text, let plain) = node.kind else {
            throw fail("expected a single value, found \(node.kindName)")
        }
        return (text, plain)
    }

    func decodeBool() throws -> Bool {
        let (text, plain) = try scalar()
        switch plain ? text.lowercased() : "" {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail("expected true or false, found '\(text)'")
        }
    }

    func decodeInteger<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let (text, _) = try scalar()
        guard let value = T(text.replacingOccurrences(of: "_", with: "")) else {
            let range = T.bitWidth >= 64 ? "" : " (\(T.min)...\(T.max))"
            throw fail("expected a whole number\(range), found '\(text)'")
        }
        return value
    }

    func decodeFloat<T: LosslessStringConvertible>(_ type: T.Type) throws -> T {
        let (text, _) = try scalar()
        guard let value = T(text) else { throw fail("expected a number, found '\(text)'") }
        return value
    }

    func decodeString() throws -> String {
        try scalar().0
    }
}

private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: NodeDecoder
    let emptyMapping: Bool
    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] {
        decoder.node.readAllKeys = true
        guard case .mapping(let pairs) = decoder.node.kind else { return [] }
        return pairs.compactMap { Key(stringValue: $0.key) }
    }

    func node(_ key: Key) -> YAMLNode? {
        guard !emptyMapping else { return nil }
        decoder.node.readKeys.insert(key.stringValue)
        return decoder.node.value(forKey: key.stringValue)
    }

    func contains(_ key: Key) -> Bool {
        node(key) != nil
    }

    func required(_ key: Key) throws -> NodeDecoder {
        guard let node = node(key) else { throw decoder.fail("missing key '\(key.stringValue)'") }
        return decoder.child(node, key: key)
    }

    func decodeNil(forKey key: Key) throws -> Bool { node(key)?.isNull ?? true }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try required(key).decodeBool() }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try required(key).decodeString() }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try required(key).decodeFloat(Double.self) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try required(key).decodeFloat(Float.self) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try required(key).decodeInteger(Int.self) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try required(key).decodeInteger(Int8.self) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try required(key).decodeInteger(Int16.self) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try required(key).decodeInteger(Int32.self) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try required(key).decodeInteger(Int64.self) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try required(key).decodeInteger(UInt.self) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try required(key).decodeInteger(UInt8.self) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try required(key).decodeInteger(UInt16.self) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try required(key).decodeInteger(UInt32.self) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try required(key).decodeInteger(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try T(from: required(key)) }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let node = node(key), !node.isNull else { return nil }
        return try decoder.child(node, key: key).decodeValue(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try required(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try required(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { try required(key) }
}

extension NodeDecoder {
    /// Decodes through the scalar paths for the standard types, so `decodeIfPresent(Int.self)` is
    /// checked like `decode(Int.self)`.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        switch type {
        case is Bool.Type: return try decodeBool() as! T
        case is String.Type: return try decodeString() as! T
        case is Int.Type: return try decodeInteger(Int.self) as! T
        case is Int64.Type: return try decodeInteger(Int64.self) as! T
        case is UInt16.Type: return try decodeInteger(UInt16.self) as! T
        case is UInt8.Type: return try decodeInteger(UInt8.self) as! T
        case is Double.Type: return try decodeFloat(Double.self) as! T
        default: return try T(from: self)
        }
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: NodeDecoder
    let items: [YAMLNode]
    var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func next() throws -> NodeDecoder {
        guard !isAtEnd else { throw decoder.fail("the list has fewer items than expected") }
        defer { currentIndex += 1 }
        return decoder.child(items[currentIndex], key: AnyKey(intValue: currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}

private struct SingleValueContainer: SingleValueDecodingContainer {
    let decoder: NodeDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.node.isNull }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.decodeBool() }
    func decode(_ type: String.Type) throws -> String { try decoder.decodeString() }
    func decode(_ type: Double.Type) throws -> Double { try decoder.decodeFloat(Double.self) }
    func decode(_ type: Float.Type) throws -> Float { try decoder.decodeFloat(Float.self) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.decodeInteger(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.decodeInteger(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.decodeInteger(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.decodeInteger(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.decodeInteger(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.decodeInteger(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.decodeInteger(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.decodeInteger(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.decodeInteger(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.decodeInteger(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}
