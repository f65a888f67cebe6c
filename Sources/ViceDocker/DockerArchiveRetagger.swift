import ViceCore
import Foundation

/// Rewrites a `docker save` archive on its way to an engine so that it can only create the tag the registry chose.
///
/// An archive names images in `manifest.json` (`RepoTags`), in the legacy `repositories` file and, for an
/// engine on the containerd image store, in `index.json` annotations; loading it would move those tags.
/// So `manifest.json`'s first image gets `[tag]` (the others `null`), `repositories` becomes `{}` and
/// `index.json` loses its image-name annotations. Everything else passes through unchanged, chunk by chunk.
///
/// The engine reads the tar with Go's `archive/tar`, so entries are framed exactly as Go frames them; where
/// readers could disagree on the name or length of an entry near these files, the archive is refused.
enum DockerArchiveRetagger {
    struct Failure: Error, Sendable, CustomStringConvertible { var description: String }

    /// The largest metadata file or PAX / GNU long-name record held in memory (Go's `archive/tar` limit too).
    static let limit = 1 << 20

    /// The archive with its tags replaced; the length changes, so it is streamed without a known length.
    static func retag(_ archive: ByteStream, as tag: String) -> ByteStream {
        let rewriter = Rewriter(archive.makeAsyncIterator(), tag: tag)
        return ByteStream { try await rewriter.next() }
    }
}

/// The tar state machine. Called by one consumer at a time (a request body is read sequentially).
private final class Rewriter: @unchecked Sendable {
    private enum Kind: String { case manifest = "manifest.json", repositories, index = "index.json" }
    private enum Naming: Equatable { case other, exact(Kind), near }
    private enum Held { case extended(UInt8), metadata(Kind) }
    private enum State { case header, copy(UInt64), hold(Held, header: [UInt8], size: Int, total: Int), done }

    private var source: ByteStream.AsyncIterator
    private let tag: String
    private var input: [UInt8] = [], offset = 0, consumed: UInt64 = 0
    private var state = State.header, block: [UInt8] = [], zeroBlocks = 0, sawManifest = false
    private var failure: DockerArchiveRetagger.Failure?
    // What the PAX ('x') and GNU long-name ('L') headers since the last entry say about the next one.
    private var renames: [String] = [], paxSize: UInt64?, sawPAX = false, sawLongName = false, sparse = false

    init(_ source: ByteStream.AsyncIterator, tag: String) { (self.source, self.tag) = (source, tag) }

    func next() async throws -> [UInt8]? {
        if let failure { throw failure }  // a refused archive never resumes
        do {
            while true {
                if case .done = state { return nil }
                if offset == input.count {
                    guard let chunk = try await source.next() else {
                        throw fail("the archive is truncated: it ends at byte \(consumed), before the two zero blocks that close a tar")
                    }
                    (input, offset) = (chunk, 0)
                } else if let output = try step(), !output.isEmpty {
                    return output
                }
            }
        } catch let error as DockerArchiveRetagger.Failure {
            failure = error
            throw error
        }
    }

    private func fail(_ message: String) -> DockerArchiveRetagger.Failure { .init(description: message) }

    /// Consumes some of `input`; returns what to send on, or nil while a block is incomplete.
    private func step() throws -> [UInt8]? {
        switch state {
        case .copy(let remaining):
            let count = Int(min(remaining, UInt64(input.count - offset)))
            let output = offset == 0 && count == input.count ? input : Array(input[offset..<offset + count])
            offset += count
            consumed &+= UInt64(count)
            state = remaining == UInt64(count) ? .header : .copy(remaining - UInt64(count))
            return output
        case .header:
            guard fill(to: 512) else { return nil }
            defer { block = [] }
            return try header(block)
        case .hold(let held, let header, let size, let total):
            guard fill(to: total) else { return nil }
            defer { block = [] }
            state = .header
            return try finish(held, header, block, size: size)
        case .done:
            return nil
        }
    }

    private func fill(to count: Int) -> Bool {
        let taken = min(count - block.count, input.count - offset)
        block += input[offset..<offset + taken]
        offset += taken
        consumed &+= UInt64(taken)
        return block.count == count
    }

    private func header(_ h: [UInt8]) throws -> [UInt8]? {
        if h.allSatisfy({ $0 == 0 }) {
            zeroBlocks += 1
            guard zeroBlocks == 2 else { return nil }
            guard sawManifest else { throw fail("the archive has no manifest.json") }
            state = .done  // what follows the end of the archive is read neither by the engine nor by us
            return [UInt8](repeating: 0, count: 1024)
        }
        let at = consumed &- 512
        guard zeroBlocks == 0 else { throw fail("the archive goes on after a zero block at byte \(at &- 512): not a well-formed tar") }
        guard let stored = Self.number(h[148..<156], base256: false), Self.checksums(h).contains(stored) else {
            let formats: [(String, [UInt8])] = [("gzip", [0x1f, 0x8b]), ("bzip2", [0x42, 0x5a, 0x68]),
                                                ("xz", [0xfd, 0x37, 0x7a, 0x58, 0x5a]), ("zstd", [0x28, 0xb5, 0x2f, 0xfd])]
            if at == 0, let format = formats.first(where: { h.starts(with: $0.1) })?.0 {
                throw fail("the archive is \(format)-compressed; the registry passes on only an uncompressed `docker save` tar")
            }
            throw fail("the tar header at byte \(at) has a bad checksum: the archive is damaged or not a tar")
        }
        guard let headerSize = Self.number(h[124..<136]) else { throw fail("the tar header at byte \(at) has an invalid size") }
        let type = h[156], name = Self.string(h[0..<100])
        if "xgLK".utf8.contains(type) {
            guard headerSize <= UInt64(DockerArchiveRetagger.limit) else { throw fail("the extended header at byte \(at) is larger than 1 MiB") }
            return try hold(.extended(type), h, size: Int(headerSize))
        }
        guard type != UInt8(ascii: "S") else { throw fail("'\(name)' is an old GNU sparse file, which the registry does not pass on") }
        defer { (renames, paxSize, sawPAX, sawLongName, sparse) = ([], nil, false, false, false) }

        // Every name a reader could give this entry: the name field, with a ustar (or star) prefix, and the renames.
        var candidates = [name] + renames
        if h[257..<263].elementsEqual("ustar\0".utf8) {
            for length in [155, 131] where h[345] != 0 { candidates.append(Self.string(h[345..<345 + length]) + "/" + name) }
        }
        let shown = renames.last ?? name, size = paxSize ?? headerSize, namings = candidates.map(Self.naming)
        guard !sparse else { throw fail("'\(shown)' is a sparse file, which the registry does not pass on") }
        guard !namings.contains(.near) else {
            throw fail("'\(shown)' is named like manifest.json, repositories or index.json but is not that top-level file; the registry refuses it")
        }
        // Go reads a '\0' entry named with a trailing slash as a directory without data: only size 0 frames it unambiguously.
        if type == 0, size > 0, candidates.contains(where: { $0.hasSuffix("/") }) {
            throw fail("'\(shown)' is an old-style directory entry that carries data")
        }
        let kinds = Set(namings.compactMap { naming -> Kind? in if case .exact(let kind) = naming { kind } else { nil } })
        if let kind = kinds.first {
            guard kinds.count == 1, renames.isEmpty, paxSize == nil, type == UInt8(ascii: "0") || type == 0 else {
                throw fail("the archive's \(kind.rawValue) is renamed or resized by a PAX or GNU header, or is not a plain file; the registry refuses it")
            }
            guard size <= UInt64(DockerArchiveRetagger.limit) else { throw fail("the archive's \(kind.rawValue) is larger than 1 MiB") }
            return try hold(.metadata(kind), h, size: Int(size))
        }
        let length = "123456".utf8.contains(type) ? 0 : size  // links, devices, directories, FIFOs: Go ignores the size
        let padded = length + (512 - length % 512) % 512
        state = padded > 0 ? .copy(padded) : .header
        return h
    }

    private func hold(_ held: Held, _ header: [UInt8], size: Int) throws -> [UInt8]? {
        let total = size + (512 - size % 512) % 512
        guard total > 0 else { return try finish(held, header, [], size: 0) }
        state = .hold(held, header: header, size: size, total: total)
        return nil
    }

    /// An extended header passes through once understood; a metadata file goes out rewritten under a fresh header.
    private func finish(_ held: Held, _ header: [UInt8], _ raw: [UInt8], size: Int) throws -> [UInt8] {
        switch held {
        case .extended(let type):
            try note(type, raw[..<size])
            return header + raw
        case .metadata(let kind):
            let body = try rewrite(kind, raw[..<size])
            if kind == .manifest { sawManifest = true }
            var fresh = header
            fresh.replaceSubrange(124..<136, with: Self.octal(body.count, width: 11) + [0])
            fresh.replaceSubrange(148..<156, with: [UInt8](repeating: 0x20, count: 8))
            fresh.replaceSubrange(148..<156, with: Self.octal(fresh.reduce(0) { $0 + Int($1) }, width: 6) + [0, 0x20])
            return fresh + body + [UInt8](repeating: 0, count: (512 - body.count % 512) % 512)
        }
    }

    private func note(_ type: UInt8, _ data: ArraySlice<UInt8>) throws {
        switch type {
        case UInt8(ascii: "x"):
            guard !sawPAX, let records = Self.paxRecords(data) else { throw fail("a PAX header is malformed or not the only one for its entry") }
            sawPAX = true
            for (key, value) in records {  // as in Go, an empty value unsets the key
                if key == "path", !value.isEmpty { renames.append(value) }
                if key.hasPrefix("GNU.sparse.") { sparse = true }
                if key == "size" {
                    paxSize = Self.decimal(Array(value.utf8)[...])
                    guard paxSize != nil || value.isEmpty else { throw fail("a PAX header has an invalid size") }
                }
            }
        case UInt8(ascii: "g"):
            // Go ignores a global header's path and size while GNU tar applies them to what follows: refuse both.
            guard !sawPAX, !sawLongName, let records = Self.paxRecords(data),
                  !records.contains(where: { $0.0 == "path" || $0.0 == "size" || $0.0.hasPrefix("GNU.sparse.") }) else {
                throw fail("a global PAX header sets a path or size, or interrupts another entry's headers; the registry refuses it")
            }
        case UInt8(ascii: "L"):
            guard !sawLongName else { throw fail("two GNU long names precede one entry") }
            sawLongName = true
            if case let longName = Self.string(data), !longName.isEmpty { renames.append(longName) }
        default:
            break  // 'K', a long link target, renames nothing
        }
    }

    private func rewrite(_ kind: Kind, _ data: ArraySlice<UInt8>) throws -> [UInt8] {
        let object = try? JSONSerialization.jsonObject(with: Data(data))
        let rewritten: Any
        switch kind {
        case .repositories:
            return Array("{}".utf8)
        case .manifest:
            guard let images = object as? [[String: Any]], !images.isEmpty else { throw fail("manifest.json is not a JSON array of images") }
            rewritten = images.enumerated().map { index, image in
                var image = image.filter { !Self.folds($0.key, "RepoTags") }
                image["RepoTags"] = index == 0 ? [tag] as Any : NSNull()
                return image
            }
        case .index:
            guard var index = object as? [String: Any] else { throw fail("index.json is not a JSON object") }
            for case let (key, descriptors as [[String: Any]]) in index where Self.folds(key, "manifests") {
                index[key] = descriptors.map { descriptor in
                    var descriptor = descriptor
                    for case let (key, annotations as [String: Any]) in descriptor where Self.folds(key, "annotations") {
                        descriptor[key] = annotations.filter { !["io.containerd.image.name", "org.opencontainers.image.ref.name"].contains($0.key) }
                    }
                    return descriptor
                }
            }
            rewritten = index
        }
        guard let json = try? JSONSerialization.data(withJSONObject: rewritten, options: [.withoutEscapingSlashes]) else {
            throw fail("\(kind.rawValue) cannot be rewritten")
        }
        return [UInt8](json)
    }

    // MARK: fields read as Go's archive/tar and encoding/json read them

    /// Go's encoding/json matches struct fields case-insensitively, with ſ as s and K (Kelvin) as k: every spelling counts.
    private static func folds(_ key: String, _ field: String) -> Bool { key.lowercased().uppercased() == field.uppercased() }

    /// The metadata file a path names once `.`, `..` and empty components are resolved; `.near` for a path that
    /// ends in such a name yet is something else (nested, a directory, another letter case).
    private static func naming(_ path: String) -> Naming {
        var parts: [Substring] = []
        for part in path.split(whereSeparator: { $0 == "/" || $0 == "\\" }) where part != "." {
            if part == "..", let last = parts.last, last != ".." { parts.removeLast() } else { parts.append(part) }
        }
        guard let last = parts.last, let kind = Kind(rawValue: last.lowercased()) else { return .other }
        let exact = parts.count == 1 && last == kind.rawValue && !path.hasSuffix("/") && !path.hasSuffix("\\")
        return exact ? .exact(kind) : .near
    }

    private static func string(_ field: ArraySlice<UInt8>) -> String { String(decoding: field.prefix { $0 != 0 }, as: UTF8.self) }

    /// A numeric field: base-256 when the top bit is set, else octal padded with spaces and NULs.
    /// Nil where Go refuses it, and for a negative value or one of 2^63 or more.
    private static func number(_ field: ArraySlice<UInt8>, base256: Bool = true) -> UInt64? {
        var value: UInt64 = 0
        if base256, let first = field.first, first & 0x80 != 0 {
            guard first & 0x40 == 0 else { return nil }
            for byte in [first & 0x3f] + field.dropFirst() {
                guard value >> 55 == 0 else { return nil }
                value = value << 8 | UInt64(byte)
            }
            return value
        }
        var digits = field
        while let byte = digits.first, byte == 0 || byte == 0x20 { digits.removeFirst() }
        while let byte = digits.last, byte == 0 || byte == 0x20 { digits.removeLast() }
        for byte in digits.prefix(while: { $0 != 0 }) {
            guard (0x30...0x37).contains(byte), value >> 60 == 0 else { return nil }
            value = value << 3 | UInt64(byte - 0x30)
        }
        return value >> 63 == 0 ? value : nil
    }

    private static func decimal(_ digits: ArraySlice<UInt8>) -> UInt64? {
        let digits = digits.first == UInt8(ascii: "+") ? digits.dropFirst() : digits
        var value: UInt64 = 0
        for byte in digits {
            let (times, overflowed) = value.multipliedReportingOverflow(by: 10)
            let (sum, carried) = times.addingReportingOverflow(UInt64(byte &- 0x30))
            guard (0x30...0x39).contains(byte), !overflowed, !carried else { return nil }
            value = sum
        }
        return !digits.isEmpty && value >> 63 == 0 ? value : nil
    }

    /// PAX records, `"<length> <key>=<value>\n"` each; nil when malformed.
    private static func paxRecords(_ data: ArraySlice<UInt8>) -> [(String, String)]? {
        var records: [(String, String)] = [], rest = data
        while !rest.isEmpty {
            guard let space = rest.firstIndex(of: 0x20), let length = decimal(rest[..<space]), length >= 5,
                  length <= UInt64(rest.count), case let end = rest.startIndex + Int(length),
                  space < end - 1, rest[end - 1] == 0x0a, let equals = rest[space..<end].firstIndex(of: UInt8(ascii: "="))
            else { return nil }
            records.append((String(decoding: rest[(space + 1)..<equals], as: UTF8.self),
                            String(decoding: rest[(equals + 1)..<(end - 1)], as: UTF8.self)))
            rest = rest[end...]
        }
        return records
    }

    /// The header's sum with the checksum field read as spaces, over unsigned and (as old tars did) signed bytes.
    private static func checksums(_ header: [UInt8]) -> [UInt64] {
        var unsigned = 0, signed = 0
        for (index, byte) in header.enumerated() {
            let value = (148..<156).contains(index) ? 0x20 : byte
            unsigned += Int(value)
            signed += Int(Int8(bitPattern: value))
        }
        return signed < 0 ? [UInt64(unsigned)] : [UInt64(unsigned), UInt64(signed)]
    }

    private static func octal(_ value: Int, width: Int) -> [UInt8] {
        let digits = Array(String(value, radix: 8).utf8)
        return [UInt8](repeating: UInt8(ascii: "0"), count: max(0, width - digits.count)) + digits
    }
}
