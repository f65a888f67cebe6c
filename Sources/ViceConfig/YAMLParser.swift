import CLibYAML
import Foundation

/// Parses YAML text into `YAMLNode`s with libyaml's event API. `${VAR}` and `${VAR:-default}` in
/// scalars are replaced from the environment while parsing, so errors point at the right spot.
package struct YAMLParser {
    package var file: String
    package var environment: [String: String]

    package init(file: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.file = file
        self.environment = environment
    }

    /// The single document in `text`; an empty file is an empty mapping.
    package func parse(_ text: String) throws -> YAMLNode {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw ConfigError(file: file, mark: nil, reason: "libyaml could not initialise a parser")
        }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var builder = Builder(file: file, environment: environment)
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    let reason = [parser.context.map { String(cString: $0) }, parser.problem.map { String(cString: $0) }]
                        .compactMap { $0 }.joined(separator: ": ")
                    throw ConfigError(file: file, mark: SourceMark(parser.problem_mark), reason: "invalid YAML: \(reason)")
                }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { break }
                try builder.handle(event)
            }
            return builder.root ?? YAMLNode(kind: .mapping([]), mark: SourceMark(line: 1, column: 1))
        }
    }
}

extension SourceMark {
    init(_ mark: yaml_mark_t) {
        self.init(line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }
}

/// Turns the event stream into a tree.
private struct Builder {
    enum Open {
        case sequence([YAMLNode], SourceMark, anchor: String?)
        case mapping([(key: String, keyMark: SourceMark, value: YAMLNode)], pendingKey: (String, SourceMark)?, SourceMark, anchor: String?)
    }

    let file: String
    let environment: [String: String]
    var stack: [Open] = []
    var anchors: [String: YAMLNode] = [:]
    /// Nodes each anchor stands for, and how many nodes aliases have added in all: an alias is
    /// cheap to write and costly to expand (a 600-byte "billion laughs" names 10^9 nodes), so
    /// expansion stops at `maximumAliasNodes`.
    var anchorSizes: [String: Int] = [:]
    var frameSizes: [Int] = []
    var aliasNodes = 0
    static let maximumAliasNodes = 100_000
    var root: YAMLNode?
    var documents = 0

    mutating func handle(_ event: yaml_event_t) throws {
        let mark = SourceMark(event.start_mark)
        switch event.type {
        case YAML_DOCUMENT_START_EVENT:
            documents += 1
            if documents > 1 { throw ConfigError(file: file, mark: mark, reason: "only one YAML document is allowed") }
        case YAML_SCALAR_EVENT:
            let scalar = event.data.scalar
            let raw = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            let plain = scalar.style == YAML_PLAIN_SCALAR_STYLE
            let text = try substitute(raw, at: mark)
            try add(YAMLNode(kind: .scalar(text, plain: plain), mark: mark), size: 1, anchor: anchorName(scalar.anchor), at: mark)
        case YAML_SEQUENCE_START_EVENT:
            stack.append(.sequence([], mark, anchor: anchorName(event.data.sequence_start.anchor)))
            frameSizes.append(1)
        case YAML_MAPPING_START_EVENT:
            stack.append(.mapping([], pendingKey: nil, mark, anchor: anchorName(event.data.mapping_start.anchor)))
            frameSizes.append(1)
        case YAML_SEQUENCE_END_EVENT:
            guard case .sequence(let items, let start, let anchor) = stack.removeLast() else { return }
            let size = frameSizes.removeLast()
            try add(YAMLNode(kind: .sequence(items), mark: start), size: size, anchor: anchor, at: start)
        case YAML_MAPPING_END_EVENT:
            guard case .mapping(let pairs, _, let start, let anchor) = stack.removeLast() else { return }
            let size = frameSizes.removeLast()
            try add(YAMLNode(kind: .mapping(pairs), mark: start), size: size, anchor: anchor, at: start)
        case YAML_ALIAS_EVENT:
            let name = anchorName(event.data.alias.anchor) ?? ""
            guard let node = anchors[name], let size = anchorSizes[name] else {
                throw ConfigError(file: file, mark: mark, reason: "unknown alias *\(name)")
            }
            aliasNodes += size
            guard aliasNodes <= Self.maximumAliasNodes else {
                throw ConfigError(file: file, mark: mark, reason: "aliases expand to more than \(Self.maximumAliasNodes) nodes; the file is refused")
            }
            try add(node, size: size, anchor: nil, at: mark)
        default:
            break
        }
    }

    func anchorName(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
    }

    mutating func add(_ node: YAMLNode, size: Int, anchor: String?, at mark: SourceMark) throws {
        if let anchor {
            anchors[anchor] = node
            anchorSizes[anchor] = size
        }
        if !frameSizes.isEmpty { frameSizes[frameSizes.count - 1] += size }
        guard let top = stack.popLast() else {
            root = node
            return
        }
        switch top {
        case .sequence(var items, let start, let anchor):
            items.append(node)
            stack.append(.sequence(items, start, anchor: anchor))
        case .mapping(var pairs, let pendingKey, let start, let anchor):
            if let (key, keyMark) = pendingKey {
                pairs.append((key, keyMark, node))
                stack.append(.mapping(pairs, pendingKey: nil, start, anchor: anchor))
            } else {
                guard case .scalar(let key, _) = node.kind else {
                    throw ConfigError(file: file, mark: mark, reason: "mapping keys must be plain strings")
                }
                if pairs.contains(where: { $0.key == key }) {
                    throw ConfigError(file: file, mark: mark, reason: "duplicate key '\(key)'")
                }
                stack.append(.mapping(pairs, pendingKey: (key, mark), start, anchor: anchor))
            }
        }
    }

    /// Replaces `${NAME}` and `${NAME:-default}`; `$$` stands for a literal `$`.
    func substitute(_ text: String, at mark: SourceMark) throws -> String {
        guard text.contains("$") else { return text }
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            let after = rest.index(after: dollar)
            if after < rest.endIndex, rest[after] == "$" {
                result += "$"
                rest = rest[rest.index(after: after)...]
                continue
            }
            guard after < rest.endIndex, rest[after] == "{", let close = rest[after...].firstIndex(of: "}") else {
                result += "$"
                rest = rest[after...]
                continue
            }
            let body = rest[rest.index(after: after)..<close]
            let name: Substring
            var fallback: Substring?
            if let range = body.range(of: ":-") {
                name = body[..<range.lowerBound]
                fallback = body[range.upperBound...]
            } else {
                name = body
            }
            guard !name.isEmpty, name.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) else {
                throw ConfigError(file: file, mark: mark, reason: "'${\(body)}' is not a valid variable reference")
            }
            if let value = environment[String(name)], !(value.isEmpty && fallback != nil) {
                result += value
            } else if let fallback {
                result += fallback
            } else {
                throw ConfigError(file: file, mark: mark, reason: "environment variable \(name) is not set")
            }
            rest = rest[rest.index(after: close)...]
        }
        result += rest
        return result
    }
}
