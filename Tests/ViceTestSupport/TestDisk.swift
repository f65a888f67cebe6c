import Crypto
import Foundation

/// Test disks: `megabytes` of data that compresses in parts (zeros, text) and not in others.
package enum TestDisk {
    package static func raw(megabytes: Int, in directory: TemporaryDirectory) throws -> String {
        let path = directory.file("disk-\(UUID().uuidString).raw")
        var bytes = [UInt8](repeating: 0, count: megabytes << 20)
        var generator = SystemRandomNumberGenerator()
        for index in stride(from: 0, to: bytes.count, by: 1 << 20) {
            switch (index >> 20) % 3 {
            case 0: for i in index..<min(index + (1 << 20), bytes.count) { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
            case 1: for i in index..<min(index + (1 << 20), bytes.count) { bytes[i] = UInt8(ascii: "a") + UInt8(i % 26) }
            default: break
            }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    package static func converted(_ raw: String, to format: String, in directory: TemporaryDirectory) throws -> String {
        let path = directory.file("disk-\(UUID().uuidString).\(format)")
        try runProgram("/usr/bin/qemu-img", ["convert", "-f", "raw", "-O", format, raw, path])
        return path
    }

    /// Whether two disk images hold the same guest data (qemu-img compare).
    package static func sameContent(_ a: String, _ b: String) -> Bool {
        (try? runProgram("/usr/bin/qemu-img", ["compare", a, b])) != nil
    }

    package static func sha256(_ path: String) throws -> String {
        SHA256.hash(data: try Data(contentsOf: URL(fileURLWithPath: path))).map { String(format: "%02x", $0) }.joined()
    }
}
