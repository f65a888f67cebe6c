import Crypto
import Foundation
import Testing
import ViceCore
import ViceTestSupport

/// The independent test peer of Peer/bwlp_peer.py (master + satellite + transfer server, Python,
/// Apache Thrift), running until `stop()`. Images are seeded and inspected through its state
/// folder, faults planned through its faults.json.
final class BwlpPeer: @unchecked Sendable {
    static let login = "lecturer"
    static let password = "lecturer-password"

    let directory: TemporaryDirectory
    let ports: [String: Int]
    private let process = Process()
    private let input = Pipe()

    /// Whether master, satellite and transfers speak TLS (with `certificate`, self-signed for 127.0.0.1).
    let tls: Bool
    var certificate: String { directory.file("cert.pem") }

    init(tls: Bool = false) async throws {
        directory = try TemporaryDirectory()
        self.tls = tls
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Peer/bwlp_peer.py").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script, directory.url.path, "\(Self.login):\(Self.password)"]
        if tls {
            try runProgram("/usr/bin/openssl", [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", directory.file("key.pem"), "-out", directory.file("cert.pem")])
            process.arguments! += [directory.file("cert.pem"), directory.file("key.pem")]
        }
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        let log = directory.file("peer.log")
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        try process.run()
        let portsFile = directory.file("ports.json")
        let running = process
        _ = await eventually(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: portsFile) || !running.isRunning }
        guard FileManager.default.fileExists(atPath: portsFile),
              let data = FileManager.default.contents(atPath: portsFile),
              let ports = try JSONSerialization.jsonObject(with: data) as? [String: Int] else {
            process.terminate()
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw ViceError(.internal, "the bwLehrpool test peer did not start (python3-thrift, thrift-compiler, python3-lz4?): \(output.suffix(2000))")
        }
        self.ports = ports
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    /// An environment of the peer's satellite; the master is the peer too.
    func environment(password: String = BwlpPeer.password, extra: [String: JSONValue] = [:]) -> Environment {
        var specifics: [String: JSONValue] = ["plain": .bool(!tls), "masterHost": .string("127.0.0.1:\(ports["master"]!)")]
        specifics.merge(extra) { $1 }
        return Environment(
            title: "bwLehrpool test peer",
            credentials: Credentials(location: "127.0.0.1:\(ports["satellite"]!)", username: Self.login, password: password,
                                     specifics: .object(specifics)),
            runtimetechnology: RuntimeTechnology(type: .virtualmachine, software: "vmware"),
            managementlayer: ManagementLayer(type: .basic, software: "bwlehrpool"))
    }

    /// Puts an image with one version holding `file` into the satellite; returns (base, version).
    @discardableResult
    func seed(_ file: String, name: String, machineDescription: String = "displayName = \"seeded\"\n") throws -> (String, String) {
        let base = UUID().uuidString.lowercased(), version = UUID().uuidString.lowercased()
        let size = try FileManager.default.attributesOfItem(atPath: file)[.size] as! NSNumber
        try FileManager.default.copyItem(atPath: file, toPath: directory.file("images/\(version).img"))
        let record: [String: Any] = [
            "imageBaseId": base, "imageName": name, "description": "seeded by the test", "osId": 2, "virtId": "vmware",
            "latestVersionId": version,
            "versions": [["versionId": version, "fileSize": size.int64Value, "createTime": 1_700_000_000,
                          "machine": Data(machineDescription.utf8).map { String(format: "%02x", $0) }.joined()]],
        ]
        try JSONSerialization.data(withJSONObject: record).write(to: URL(fileURLWithPath: directory.file("images/\(base).json")))
        return (base, version)
    }

    /// The image record, nil when the satellite does not have it.
    func image(_ base: String) -> [String: Any]? {
        FileManager.default.contents(atPath: directory.file("images/\(base).json"))
            .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
    }

    func versionFile(_ version: String) -> String { directory.file("images/\(version).img") }

    /// Plans faults (see bwlp_peer.py).
    func faults(_ json: String) throws {
        try json.write(toFile: directory.file("faults.json"), atomically: true, encoding: .utf8)
    }

    /// Base ids on the satellite.
    var images: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.file("images"))) ?? [])
            .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }
    }
}
