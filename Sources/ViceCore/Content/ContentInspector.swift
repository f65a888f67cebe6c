import Foundation

/// Checks that bytes are what their content type claims, by their structure rather than a name:
/// disks through `DiskInspector` (which also refuses disks that are unsafe to convert), a
/// `docker save` tar with `manifest.json`, a Dockerfile's `FROM`, a Packer template.
public enum ContentInspector {
    /// Why bytes do not match a content type.
    public struct Mismatch: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Throws `Mismatch` when the bytes are not of `type`.
    public static func check(_ reader: any ByteReader, is type: ContentType) throws {
        switch type {
        case .diskRaw, .diskQcow2, .diskVmdk:
            do {
                _ = try DiskInspector.inspect(reader, declared: type)
            } catch let refusal as DiskInspector.Refusal {
                throw Mismatch(description: refusal.description)
            }
        case .dockerImage:
            try checkDockerArchive(reader)
        case .dockerFile:
            try checkDockerfile(reader)
        case .packerfile:
            try checkPackerTemplate(reader)
        }
    }

    /// The most specific content type the bytes look like (raw when nothing else fits). Detection
    /// only: the caller still checks the bytes as the detected type, which refuses unsafe disks.
    public static func detect(_ reader: any ByteReader) -> ContentType {
        switch try? DiskInspector.detect(reader) {
        case .qcow2?, .qcowV1?: return .diskQcow2
        case .vmdk?: return .diskVmdk
        default: break
        }
        for type in [ContentType.dockerImage, .dockerFile, .packerfile] where (try? check(reader, is: type)) != nil {
            return type
        }
        return .diskRaw
    }

    static let textLimit = 1 << 20

    /// The bytes as UTF-8 text, when they are small text without NUL bytes.
    static func text(_ reader: any ByteReader, kind: String) throws -> String {
        guard reader.size <= Int64(textLimit) else {
            throw Mismatch(description: "a \(kind) is text, but the upload is \(reader.size) bytes")
        }
        let bytes = try reader.read(at: 0, count: Int(reader.size))
        guard !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) else {
            throw Mismatch(description: "a \(kind) is UTF-8 text, but the bytes are binary")
        }
        return text
    }

    static func checkDockerfile(_ reader: any ByteReader) throws {
        let text = try text(reader, kind: "Dockerfile")
        // The first instruction (after comments, parser directives and ARGs) must be FROM.
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let instruction = line.prefix { !$0.isWhitespace }.uppercased()
            if instruction == "ARG" { continue }
            if instruction == "FROM" { return }
            throw Mismatch(description: "a Dockerfile starts with a FROM instruction, this one with \(instruction)")
        }
        throw Mismatch(description: "a Dockerfile needs a FROM instruction")
    }

    static func checkPackerTemplate(_ reader: any ByteReader) throws {
        let text = try text(reader, kind: "Packer template")
        if let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] {
            guard json["builders"] != nil else {
                throw Mismatch(description: "a Packer JSON template has a \"builders\" section")
            }
            return
        }
        let hasSource = text.range(of: #"(?m)^\s*source\s+"[^"]+"\s+"[^"]+"\s*\{"#, options: .regularExpression) != nil
        let hasBuild = text.range(of: #"(?m)^\s*build\s*\{"#, options: .regularExpression) != nil
        guard hasSource && hasBuild else {
            throw Mismatch(description: "a Packer template is JSON with \"builders\" or HCL with source and build blocks")
        }
    }

    /// A `docker save` archive: a tar whose entries include `manifest.json`.
    static func checkDockerArchive(_ reader: any ByteReader) throws {
        var offset: Int64 = 0
        var entries = 0
        while offset + 512 <= reader.size {
            let header = try reader.read(at: offset, count: 512)
            if header.allSatisfy({ $0 == 0 }) { break }  // end of archive
            guard header.count == 512, tarChecksumMatches(header) else {
                throw Mismatch(description: entries == 0 ? "a Docker image is a tar archive (docker save), these bytes are not"
                                                        : "the tar archive is damaged after \(entries) entries")
            }
            let name = String(decoding: header[0..<100].prefix { $0 != 0 }, as: UTF8.self)
            let prefix = String(decoding: header[345..<500].prefix { $0 != 0 }, as: UTF8.self)
            let path = prefix.isEmpty ? name : prefix + "/" + name
            if path == "manifest.json" || path == "./manifest.json" { return }
            guard let size = tarNumber(header[124..<136]) else {
                throw Mismatch(description: "the tar archive has an unreadable entry size")
            }
            entries += 1
            offset += 512 + (size + 511) / 512 * 512
        }
        throw Mismatch(description: "a Docker image archive (docker save) holds manifest.json, this tar does not")
    }

    static func tarNumber(_ field: ArraySlice<UInt8>) -> Int64? {
        if let first = field.first, first & 0x80 != 0 {  // base-256 for large sizes
            return field.dropFirst().reduce(Int64(first & 0x7F)) { $0 << 8 | Int64($1) }
        }
        let digits = String(decoding: field.prefix { $0 != 0 && $0 != 0x20 }, as: UTF8.self)
            .trimmingCharacters(in: .whitespaces)
        return digits.isEmpty ? 0 : Int64(digits, radix: 8)
    }

    static func tarChecksumMatches(_ header: [UInt8]) -> Bool {
        guard let stored = tarNumber(header[148..<156]) else { return false }
        var sum: Int64 = 0
        for (index, byte) in header.enumerated() {
            sum += (148..<156).contains(index) ? 0x20 : Int64(byte)
        }
        return sum == stored
    }
}
