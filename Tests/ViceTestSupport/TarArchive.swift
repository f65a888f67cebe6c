import Foundation

/// A ustar archive of the given files (mode 0755, as `docker save` and build contexts hold them).
package func tarArchive(_ files: [(String, [UInt8])]) -> [UInt8] {
    var archive: [UInt8] = []
    for (name, content) in files {
        archive += tarHeader(name: name, size: content.count) + content + tarPadding(after: content.count)
    }
    return archive + tarEnd
}

/// The 512-byte ustar header of a file of `size` bytes, for archives written piece by piece.
package func tarHeader(name: String, size: Int) -> [UInt8] {
    var header = [UInt8](repeating: 0, count: 512)
    header.replaceSubrange(0..<name.utf8.count, with: Array(name.utf8))
    func octal(_ value: Int, at offset: Int, width: Int) {
        let text = Array(String(value, radix: 8).utf8)
        header.replaceSubrange(offset..<offset + width, with: [UInt8](repeating: 0x30, count: width - 1 - text.count) + text + [0])
    }
    octal(0o755, at: 100, width: 8)
    octal(0, at: 108, width: 8)
    octal(0, at: 116, width: 8)
    octal(size, at: 124, width: 12)
    octal(1_700_000_000, at: 136, width: 12)
    header[156] = 0x30
    header.replaceSubrange(257..<263, with: Array("ustar\0".utf8))
    header.replaceSubrange(263..<265, with: Array("00".utf8))
    header.replaceSubrange(148..<156, with: [UInt8](repeating: 0x20, count: 8))
    octal(header.reduce(0) { $0 + Int($1) }, at: 148, width: 7)
    header[155] = 0x20
    return header
}

/// The zeros that round a file's content up to a whole 512-byte block.
package func tarPadding(after size: Int) -> [UInt8] {
    [UInt8](repeating: 0, count: (512 - size % 512) % 512)
}

/// The two zero blocks that end an archive.
package let tarEnd = [UInt8](repeating: 0, count: 1024)
