import Foundation
import ViceCore

/// Disk conversion with `qemu-img convert` (Debian qemu-utils). Before converting, `qemu-img
/// info` must show a self-contained image: a qcow2 with a backing file or a VMDK with extents
/// elsewhere would make qemu-img read other files of this machine, so such images are refused.
public struct QemuImgConverter: DiskConverter {
    public let executable: String

    public init(executable: String = "/usr/bin/qemu-img") {
        self.executable = executable
    }

    static func format(_ type: ContentType) -> String? {
        switch type {
        case .diskRaw: "raw"
        case .diskQcow2: "qcow2"
        case .diskVmdk: "vmdk"
        default: nil
        }
    }

    public func canConvert(from: ContentType, to: ContentType) -> Bool {
        from != to && Self.format(from) != nil && Self.format(to) != nil && FileManager.default.isExecutableFile(atPath: executable)
    }

    public func convert(_ input: URL, from: ContentType, to: ContentType, output: URL) async throws {
        guard let source = Self.format(from), let target = Self.format(to) else {
            throw ViceError.invalidInput("cannot convert \(from.rawValue) to \(to.rawValue)")
        }
        let info = try await run(["info", "--output=json", "-f", source, input.path])
        if let object = try? JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any] {
            if object["backing-filename"] != nil || object["full-backing-filename"] != nil {
                throw ViceError.invalidInput("the \(source) image refers to a backing file; it is not converted")
            }
            let extents = ((object["format-specific"] as? [String: Any])?["data"] as? [String: Any])?["extents"] as? [[String: Any]] ?? []
            if extents.contains(where: { ($0["filename"] as? String).map { $0 != input.path } ?? false }) {
                throw ViceError.invalidInput("the VMDK names extents in other files; it is not converted")
            }
        }
        _ = try await run(["convert", "-f", source, "-O", target, input.path, output.path])
    }

    /// Runs qemu-img on a thread of its own; its standard output, or its error message thrown.
    private func run(_ arguments: [String]) async throws -> String {
        let executable = self.executable
        return try await BlockingIO.run {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            let output = Pipe(), errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            let message = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw ViceError(.internal, "qemu-img \(arguments.first ?? "") failed: "
                    + String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            }
            return String(decoding: data, as: UTF8.self)
        }
    }
}
