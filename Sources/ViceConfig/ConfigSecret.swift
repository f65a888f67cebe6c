import Foundation

/// Secrets in the configuration: `file:PATH` stands for the file's content (without its final
/// line break), so that passwords live in files of their own mode; anything else is the value
/// itself (`${VARIABLE}` was already replaced by the parser).
enum ConfigSecret {
    static func resolve<Key: CodingKey>(_ value: String, forKey key: Key, in container: KeyedDecodingContainer<Key>) throws -> String {
        guard value.hasPrefix("file:") else { return value }
        let path = String(value.dropFirst("file:".count))
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "cannot read the file '\(path)'")
        }
        var trimmed = Substring(text)
        while trimmed.last == "\n" || trimmed.last == "\r" { trimmed.removeLast() }
        return String(trimmed)
    }
}
