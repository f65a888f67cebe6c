import Foundation
import Testing
import ViceConversion
import ViceCore
import ViceTestSupport

/// qemu-img runs with an empty environment, under resource limits and a wall-clock timeout. A
/// stand-in executable shows what the child gets; the real qemu-img shows conversions still work.
@Suite(.serialized) struct QemuImgLimitsTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
    }

    /// A shell script in place of qemu-img.
    func standIn(_ body: String) throws -> String {
        let path = directory.file("qemu-img-\(UUID())")
        try "#!/bin/sh\n\(body)\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    func disk() throws -> URL {
        let path = directory.file("disk-\(UUID()).raw")
        try Data(repeating: 7, count: 1 << 20).write(to: URL(fileURLWithPath: path))
        return URL(fileURLWithPath: path)
    }

    @Test func theChildGetsNoEnvironmentAndTheLimits() async throws {
        setenv("VICE_ADMIN_PASSWORD", "must-not-reach-children", 1)
        defer { unsetenv("VICE_ADMIN_PASSWORD") }
        let report = directory.file("report")
        let script = try standIn("{ env; echo as=$(ulimit -v) cpu=$(ulimit -t) core=$(ulimit -c); } > \(report); exit 1")
        await #expect(throws: ViceError.self) {
            try await QemuImgConverter(executable: script).convert(try disk(), from: .diskRaw, to: .diskQcow2,
                                                                   output: directory.url.appendingPathComponent("out"))
        }
        let seen = try String(contentsOfFile: report, encoding: .utf8)
        #expect(!seen.contains("must-not-reach-children"))
        #expect(!seen.contains("VICE_"))
        #expect(seen.contains("as=\(QemuImgConverter.Limits().addressSpaceBytes / 1024)"), "\(seen)")
        #expect(seen.contains("cpu=\(QemuImgConverter.Limits().infoCPUSeconds)"), "\(seen)")
        #expect(seen.contains("core=0"), "\(seen)")
    }

    @Test func aRunThatTakesTooLongIsStopped() async throws {
        var limits = QemuImgConverter.Limits()
        limits.infoTimeout = .seconds(1)
        let script = try standIn("sleep 60")
        await #expect {
            try await QemuImgConverter(executable: script, limits: limits).convert(try disk(), from: .diskRaw, to: .diskQcow2,
                                                                                   output: directory.url.appendingPathComponent("out"))
        } throws: { "\($0)".contains("took longer than") }
    }

    @Test func aRunThatUsesTooMuchCPUIsStopped() async throws {
        var limits = QemuImgConverter.Limits()
        limits.infoCPUSeconds = 1
        limits.infoTimeout = .seconds(120)
        let script = try standIn("while :; do :; done")
        await #expect {
            try await QemuImgConverter(executable: script, limits: limits).convert(try disk(), from: .diskRaw, to: .diskQcow2,
                                                                                   output: directory.url.appendingPathComponent("out"))
        } throws: { "\($0)".contains("exceeded its resource limits") }
    }

    @Test func realConversionsWorkUnderTheLimits() async throws {
        let input = try disk()
        let output = directory.url.appendingPathComponent("converted.qcow2")
        try await QemuImgConverter().convert(input, from: .diskRaw, to: .diskQcow2, output: output)
        try runProgram("/usr/bin/qemu-img", ["compare", "-f", "raw", "-F", "qcow2", input.path, output.path])
        // And what it made passes the inspector.
        _ = try DiskInspector.inspect(try FileByteReader(path: output.path), declared: .diskQcow2)
    }
}
