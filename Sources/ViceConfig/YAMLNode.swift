/// A position in a YAML file (1-based line and column).
package struct SourceMark: Sendable, Hashable, CustomStringConvertible {
    package var line: Int
    package var column: Int

    package init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    package var description: String { "\(line):\(column)" }
}

/// A parsed YAML value with where it came from. Mapping nodes remember which keys the decoder
/// read, so that keys nobody asked for can be reported as errors instead of being ignored.
package final class YAMLNode: @unchecked Sendable {
    package enum Kind {
        /// `plain` is false for quoted and block scalars, which are always strings.
        case scalar(String, plain: Bool)
        case sequence([YAMLNode])
        case mapping([(key: String, keyMark: SourceMark, value: YAMLNode)])
    }

    package let kind: Kind
    package let mark: SourceMark
    var readKeys: Set<String> = []
    /// Set when a mapping was decoded as a dictionary: every key is wanted.
    var readAllKeys = false
    /// The keys a decoded type declares, for error messages.
    var expectedKeys: [String] = []

    init(kind: Kind, mark: SourceMark) {
        self.kind = kind
        self.mark = mark
    }

    var isNull: Bool {
        if case .scalar(let text, let plain) = kind, plain {
            return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
        }
        return false
    }

    func value(forKey key: String) -> YAMLNode? {
        guard case .mapping(let pairs) = kind else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    var kindName: String {
        switch kind {
        case .scalar: "a scalar"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }
}
