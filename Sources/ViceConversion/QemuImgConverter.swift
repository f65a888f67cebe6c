package import Foundation
package import ViceCore

/// Disk conversion with `qemu-img convert` (Debian qemu-utils). Disks reach it only after the
/// registry's own header inspector passed them; `qemu-img info` must then also show a
/// self-contained image (no backing file, no data file, no extents elsewhere). qemu-img always
/// gets the format (`-f`), never probes; it runs with an empty environment, under resource
/// limits (address space, CPU time, and an output no larger than the disk's virtual size allows)
/// and a wall-clock timeout.
package struct QemuImgConverter: DiskConverter {
    package let executable: String
    package var limits: Limits

    /// What one qemu-img run may use.
    package struct Limits: Sendable, Hashable {
        /// RLIMIT_AS of `qemu-img info` and `convert`.
        package var addressSpaceBytes: Int64 = 2 << 30
        /// RLIMIT_CPU of `qemu-img info`, in seconds (Glance uses 2 s; a busy machine needs more).
        package var infoCPUSeconds = 10
        /// RLIMIT_CPU of `qemu-img convert`: this many seconds, plus `convertCPUSecondsPerGiB` per GiB.
        package var convertCPUSeconds = 60
        package var convertCPUSecondsPerGiB = 30
        /// Wall-clock limits: `info`, and `convert` (base + per GiB of virtual size).
        package var infoTimeout: Duration = .seconds(30)
        package var convertTimeout: Duration = .seconds(300)
        package var convertTimeoutPerGiB: Duration = .seconds(120)

        package init() {}
    }

    package init(executable: String = "/usr/bin/qemu-img", limits: Limits = Limits()) {
        self.executable = executable
        self.limits = limits
    }

    static func format(_ type: ContentType) -> String? {
        switch type {
        case .diskRaw: "raw"
        case .diskQcow2: "qcow2"
        case .diskVmdk: "vmdk"
        default: nil
        }
    }

    package func canConvert(from: ContentType, to: ContentType) -> Bool {
        from != to && Self.format(from) != nil && Self.format(to) != nil && FileManager.default.isExecutableFile(atPath: executable)
    }

    package func convert(_ input: URL, from: ContentType, to: ContentType, output: URL) async throws {
        guard let source = Self.format(from), let target = Self.format(to) else {
            throw ViceError.invalidInput("cannot convert \(from.rawValue) to \(to.rawValue)")
        }
        // An absolute path: a name with a colon would otherwise be read as a protocol.
        let path = input.standardizedFileURL.path
        let info = try await run(["info", "--output=json", "-f", source, path],
                                 cpuSeconds: limits.infoCPUSeconds, fileSizeBytes: 0, timeout: limits.infoTimeout)
        guard let object = try? JSONSerialization.jsonObject(with: Data(info.utf8)) as? [String: Any] else {
            throw ViceError.invalidInput("qemu-img could not describe the \(source) image; it is not converted")
        }
        guard object["format"] as? String == source else {
            throw ViceError.invalidInput("qemu-img reads the image as \(object["format"] as? String ?? "nothing"), not \(source); it is not converted")
        }
        if object["backing-filename"] != nil || object["full-backing-filename"] != nil {
            throw ViceError.invalidInput("the \(source) image refers to a backing file; it is not converted")
        }
        let data = (object["format-specific"] as? [String: Any])?["data"] as? [String: Any]
        if data?["data-file"] != nil {
            throw ViceError.invalidInput("the \(source) image keeps its data in another file; it is not converted")
        }
        let extents = data?["extents"] as? [[String: Any]] ?? []
        if extents.contains(where: { ($0["filename"] as? String).map { $0 != path } ?? false }) {
            throw ViceError.invalidInput("the VMDK names extents in other files; it is not converted")
        }
        guard let virtualSize = (object["virtual-size"] as? NSNumber)?.int64Value, virtualSize >= 0 else {
            throw ViceError.invalidInput("qemu-img reports no virtual size for the image; it is not converted")
        }
        // The output can hold the whole disk plus the format's metadata, and no more.
        let outputLimit = virtualSize + virtualSize / 8 + (64 << 20)
        let gib = Int((virtualSize + (1 << 30) - 1) >> 30)
        _ = try await run(["convert", "-f", source, "-O", target, path, output.standardizedFileURL.path],
                          cpuSeconds: limits.convertCPUSeconds + limits.convertCPUSecondsPerGiB * gib,
                          fileSizeBytes: outputLimit, timeout: limits.convertTimeout + limits.convertTimeoutPerGiB * gib)
    }

    /// Runs qemu-img under `prlimit`, in a process group of its own, on a thread of its own; its standard output, or its error
    /// message thrown. Standard output and error are read at the same time, so neither can fill
    /// up and stall the other.
    private func run(_ arguments: [String], cpuSeconds: Int, fileSizeBytes: Int64, timeout: Duration) async throws -> String {
        let executable = self.executable
        let limits = self.limits
        let result = try await BlockingIO.run { () throws -> (Int32, Bool, Bool, Data, Data) in
            let process = Process()
            // Foundation starts the child as the leader of a process group of its own, so the
            // timeout can end the group whole (anything it started included).
            process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
            var limitArguments = ["--as=\(limits.addressSpaceBytes)", "--cpu=\(cpuSeconds)", "--core=0"]
            if fileSizeBytes > 0 { limitArguments.append("--fsize=\(fileSizeBytes)") }
            process.arguments = limitArguments + ["--", executable] + arguments
            // Nothing of the server's environment (secrets among it) reaches the child.
            process.environment = ["PATH": "/usr/bin:/bin", "LC_ALL": "C"]
            let output = Pipe(), errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let timedOut = LockedBox(false)
            let watchdog = DispatchWorkItem {
                timedOut.withLock { $0 = true }
                kill(-process.processIdentifier, SIGKILL)
                kill(process.processIdentifier, SIGKILL)
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(timeout.components.seconds * 1000)), execute: watchdog)
            let errorData = LockedBox(Data())
            let drained = DispatchSemaphore(value: 0)
            DispatchQueue.global().async {
                let data = errors.fileHandleForReading.readDataToEndOfFile()
                errorData.withLock { $0 = data.prefix(64 * 1024) }
                drained.signal()
            }
            var data = Data()
            while true {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                if data.count < 16 << 20 { data.append(chunk) }
            }
            drained.wait()
            process.waitUntilExit()
            watchdog.cancel()
            return (process.terminationStatus, process.terminationReason == .uncaughtSignal, timedOut.withLock { $0 }, data, errorData.withLock { $0 })
        }
        let (status, signalled, timedOut, data, message) = result
        let what = "qemu-img \(arguments.first ?? "")"
        if timedOut { throw ViceError.invalidInput("\(what) took longer than \(timeout) and was stopped; the image is not converted") }
        guard status == 0 else {
            let text = String(decoding: message, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if signalled || text.isEmpty {
                // RLIMIT_CPU and RLIMIT_FSIZE end the process with SIGXCPU / SIGXFSZ; RLIMIT_AS makes allocations fail.
                throw ViceError.invalidInput("\(what) exceeded its resource limits (\(signalled ? "signal" : "exit") \(status)); the image is not converted")
            }
            throw ViceError(.internal, "\(what) failed: \(RemoteText.excerpt(text, limit: 500))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
