package import Foundation
package import ViceCore

/// The real Keystone + Glance that `script/openstack-testbed` starts (script/test does). The tests
/// fail, never skip, without it. Set-up and checks go through the `curl` command, not through the
/// adapter's own client, so that what the adapter did is seen from outside.
package enum OpenStackTestbed {
    package struct Missing: Error, CustomStringConvertible {
        package var description: String {
            "no OpenStack testbed: run the tests with script/test, or start one with `script/openstack-testbed start DIR` and source DIR/env"
        }
    }

    package static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing() }
        return value
    }

    package static func identityURL() throws -> String { try variable("VICE_TEST_OPENSTACK_URL") }
    package static func glanceURL() throws -> String { try variable("VICE_TEST_OPENSTACK_GLANCE") }
    package static func password(of user: String) throws -> String {
        try variable(user == "admin" ? "VICE_TEST_OPENSTACK_ADMIN_PASSWORD" : "VICE_TEST_OPENSTACK_DEMO_PASSWORD")
    }

    /// An environment for `user` in the project of the same name (admin or demo).
    package static func environment(user: String, password: String? = nil, location: String? = nil,
                            specifics: [String: JSONValue] = [:]) throws -> Environment {
        var all: [String: JSONValue] = ["tenant": .string(user), "region": .string("RegionOne"), "domain": .string("Default")]
        all.merge(specifics) { $1 }
        return Environment(
            title: "OpenStack testbed (\(user))",
            credentials: Credentials(location: try location ?? identityURL(), username: user,
                                     password: try password ?? self.password(of: user), specifics: .object(all)),
            runtimetechnology: RuntimeTechnology(type: .virtualmachine, software: "kvm"),
            managementlayer: ManagementLayer(type: .cloudcomputing, software: "openstack"))
    }

    // MARK: curl

    /// Runs curl; returns the status and the body.
    @discardableResult
    package static func curl(_ arguments: [String]) throws -> (status: Int, body: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        process.arguments = ["-sS", "-H", "Expect:", "-w", "\n%{http_code}"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let newline = data.lastIndex(of: 10) else { return (0, data) }
        let status = Int(String(decoding: data[(newline + 1)...], as: UTF8.self)) ?? 0
        return (status, data[..<newline])
    }

    /// A token for `user` in the project of the same name.
    package static func token(user: String) throws -> String {
        let body = """
            {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "\(user)", "domain": {"name": "Default"}, \
            "password": "\(try password(of: user))"}}}, "scope": {"project": {"name": "\(user)", "domain": {"name": "Default"}}}}}
            """
        let directory = try TemporaryDirectory()
        let headers = directory.file("headers")
        let (status, _) = try curl(["-X", "POST", "-D", headers, "-H", "Content-Type: application/json",
                                    "-d", body, try identityURL() + "/auth/tokens"])
        guard status == 201 else { throw TestbedError("Keystone answered \(status) to \(user)'s login") }
        let text = try String(contentsOfFile: headers, encoding: .utf8)
        for line in text.split(whereSeparator: \.isNewline) where line.lowercased().hasPrefix("x-subject-token:") {
            return line.dropFirst("x-subject-token:".count).trimmingCharacters(in: .whitespaces)
        }
        throw TestbedError("no X-Subject-Token for \(user)")
    }

    /// Creates an image in `user`'s project and uploads `file` into it; returns its id.
    package static func createImage(user: String, name: String, diskFormat: String, file: String) throws -> String {
        let token = try token(user: user)
        let (status, body) = try curl([
            "-X", "POST", "-H", "X-Auth-Token: \(token)", "-H", "Content-Type: application/json",
            "-d", #"{"name": "\#(name)", "disk_format": "\#(diskFormat)", "container_format": "bare"}"#,
            try glanceURL() + "/v2/images"])
        guard status == 201, let id = try JSONSerialization.jsonObject(with: body) as? [String: Any],
              let imageID = id["id"] as? String else { throw TestbedError("creating \(name): HTTP \(status)") }
        let upload = try curl(["-X", "PUT", "-H", "X-Auth-Token: \(token)", "-H", "Content-Type: application/octet-stream",
                               "--data-binary", "@\(file)", try glanceURL() + "/v2/images/\(imageID)/file"])
        guard upload.status == 204 else { throw TestbedError("uploading \(name): HTTP \(upload.status)") }
        return imageID
    }

    /// The image record as `user` sees it; nil when Glance answers 404.
    package static func image(_ id: String, user: String) throws -> [String: Any]? {
        let (status, body) = try curl(["-H", "X-Auth-Token: \(try token(user: user))", try glanceURL() + "/v2/images/\(id)"])
        if status == 404 { return nil }
        guard status == 200 else { throw TestbedError("GET image \(id): HTTP \(status)") }
        return try JSONSerialization.jsonObject(with: body) as? [String: Any]
    }

    /// Images of `user`'s project carrying the property `key=value`, whatever their status.
    package static func images(user: String, property key: String, value: String) throws -> [[String: Any]] {
        let (status, body) = try curl(["-H", "X-Auth-Token: \(try token(user: user))",
                                       try glanceURL() + "/v2/images?\(key)=\(value)"])
        guard status == 200 else { throw TestbedError("listing images: HTTP \(status)") }
        return (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["images"] as? [[String: Any]] ?? []
    }

    /// Downloads an image's bytes to `file`.
    package static func download(_ id: String, user: String, to file: String) throws {
        let (status, _) = try curl(["-o", file, "-H", "X-Auth-Token: \(try token(user: user))",
                                    try glanceURL() + "/v2/images/\(id)/file"])
        guard status == 200 else { throw TestbedError("downloading \(id): HTTP \(status)") }
    }

    package static func delete(_ id: String, user: String) throws {
        try curl(["-X", "DELETE", "-H", "X-Auth-Token: \(try token(user: user))", try glanceURL() + "/v2/images/\(id)"])
    }

    // MARK: disk images

    /// A real disk image made by qemu-img: `megabytes` of test data as raw, converted to `format`.
    package static func diskImage(format: String, megabytes: Int = 3, in directory: TemporaryDirectory) throws -> String {
        let raw = try TestDisk.raw(megabytes: megabytes, in: directory)
        return format == "raw" ? raw : try TestDisk.converted(raw, to: format, in: directory)
    }
}

package struct TestbedError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// The fault proxy of Peers/fault_proxy.py, in front of the testbed's Glance.
package final class FaultProxy: @unchecked Sendable {
    package let port: Int
    private let process: Process
    private let input: Pipe

    package init(mode: String, after: Int) async throws {
        let directory = try TemporaryDirectory()
        let portFile = directory.file("port")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ViceOpenStackTests/Peers/fault_proxy.py").path
        guard let glancePort = URL(string: try OpenStackTestbed.glanceURL())?.port else { throw TestbedError("no Glance port") }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [script, String(glancePort), mode, String(after), portFile]
        input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        var found = 0
        _ = await eventually(timeout: .seconds(20)) {
            found = Int((try? String(contentsOfFile: portFile, encoding: .utf8)) ?? "") ?? 0
            return found > 0
        }
        guard found > 0 else { throw TestbedError("the fault proxy did not start") }
        port = found
    }

    package var url: String { "http://127.0.0.1:\(port)" }

    package func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
