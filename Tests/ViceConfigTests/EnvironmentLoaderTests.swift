import Foundation
import Testing
import ViceConfig
import ViceCore
import ViceTestSupport

/// Environments declared in YAML: the main file, a directory of files, secrets, reloads.
@Suite struct EnvironmentLoaderTests {
    let directory: TemporaryDirectory

    init() throws {
        directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.file("environments.d"), withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: directory.file(name), atomically: true, encoding: .utf8)
    }

    func loader(_ variables: [String: String] = [:]) -> EnvironmentLoader {
        EnvironmentLoader(configurationPath: directory.file("vice.yaml"), environment: variables)
    }

    @Test func environmentsComeFromTheMainFileAndTheDirectoryWithTheirSecrets() throws {
        try write("secret", "from-a-file\n")
        try write("vice.yaml", """
            environmentsDirectory: \(directory.file("environments.d"))
            environments:
              - id: campus-cloud
                title: Campus OpenStack
                managementlayer: {type: cloudcomputing, software: openstack}
                runtimetechnology: {type: virtualmachine, software: kvm}
                credentials:
                  location: https://keystone.example.org:5000/v3
                  username: vice
                  password: ${CAMPUS_PASSWORD}
                  specifics: {tenant: demo, region: RegionOne, port: 5000, tls: true}
                users: all
            """)
        try write("environments.d/docker.yaml", """
            environments:
              - id: lab-docker
                managementlayer: {software: docker}
                credentials:
                  location: unix:///var/run/docker.sock
                  password: file:\(directory.file("secret"))
                users: [alice, bob]
            """)
        let outcome = loader(["CAMPUS_PASSWORD": "from-the-environment"]).load()
        #expect(outcome.problems.isEmpty, "\(outcome.problems)")
        #expect(outcome.environments.map(\.id) == ["campus-cloud", "lab-docker"])
        let campus = outcome.environments[0]
        #expect(campus.users == nil)
        #expect(campus.environment.title == "Campus OpenStack")
        #expect(campus.environment.credentials?.password == "from-the-environment")
        #expect(campus.environment.credentials?.specifics == .object([
            "tenant": .string("demo"), "region": .string("RegionOne"), "port": .number(5000), "tls": .bool(true)]))
        let docker = outcome.environments[1]
        #expect(docker.users == ["alice", "bob"])
        #expect(docker.environment.title == "lab-docker")
        #expect(docker.environment.credentials?.password == "from-a-file")
        #expect(docker.source.hasSuffix("environments.d/docker.yaml"))
    }

    @Test func aBadFileIsReportedWithItsLineAndKeepsItsLastGoodEnvironmentsOthersAreUnaffected() throws {
        try write("vice.yaml", "environmentsDirectory: \(directory.file("environments.d"))\n")
        let good = """
            environments:
              - id: one
                managementlayer: {software: memory}
                users: all
            """
        try write("environments.d/a.yaml", good)
        try write("environments.d/b.yaml", "environments:\n  - id: two\n    managementlayer: {software: memory}\n    users: [carol]\n")
        let loader = loader()
        #expect(loader.load().environments.map(\.id) == ["one", "two"])

        // a.yaml breaks: an unknown key on line 4; b.yaml changes; a new c.yaml has no `users`.
        try write("environments.d/a.yaml", good.replacingOccurrences(of: "users: all", with: "users: all\n    colour: blue"))
        try write("environments.d/b.yaml", "environments:\n  - id: three\n    managementlayer: {software: memory}\n    users: all\n")
        try write("environments.d/c.yaml", "environments:\n  - id: four\n    managementlayer: {software: memory}\n")
        let outcome = loader.load()
        #expect(outcome.environments.map(\.id) == ["one", "three"])
        #expect(outcome.problems.count == 2)
        #expect(outcome.problems.contains { $0.contains("a.yaml:5:5: unknown key 'colour'") && $0.contains("previous environments stay") },
                "\(outcome.problems)")
        #expect(outcome.problems.contains { $0.contains("c.yaml:") && $0.contains("users") }, "\(outcome.problems)")

        // A removed file takes its environments with it.
        try FileManager.default.removeItem(atPath: directory.file("environments.d/a.yaml"))
        #expect(loader.load().environments.map(\.id) == ["three"])
    }

    @Test func badValuesAndDuplicateIdsAreReported() throws {
        try write("vice.yaml", """
            environmentsDirectory: \(directory.file("environments.d"))
            environments:
              - id: same
                managementlayer: {software: memory}
                users: all
            """)
        try write("environments.d/dup.yaml", "environments:\n  - id: same\n    managementlayer: {software: docker}\n    users: all\n")
        try write("environments.d/bad-id.yaml", "environments:\n  - id: 'no spaces'\n    managementlayer: {software: memory}\n    users: all\n")
        try write("environments.d/secret.yaml", """
            environments:
              - id: secretless
                managementlayer: {software: memory}
                credentials: {password: "file:/nonexistent/secret"}
                users: all
            """)
        let outcome = loader().load()
        #expect(outcome.environments.map(\.id) == ["same"])
        #expect(outcome.environments[0].environment.adapterKind == "memory")
        #expect(outcome.problems.contains { $0.contains("dup.yaml") && $0.contains("already declared") }, "\(outcome.problems)")
        #expect(outcome.problems.contains { $0.contains("bad-id.yaml:2:") && $0.contains("is not an id") }, "\(outcome.problems)")
        #expect(outcome.problems.contains { $0.contains("secret.yaml:4:") && $0.contains("cannot read the file '/nonexistent/secret'") },
                "\(outcome.problems)")
    }
}

/// The example environment files and the server's own configuration load without problems.
@Suite struct ShippedEnvironmentFilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(arguments: ["openstack", "docker", "bwlehrpool", "memory"])
    func theExampleFor(backend: String) throws {
        let directory = try TemporaryDirectory()
        let example = Self.root.appendingPathComponent("examples/environments/\(backend).yaml").path
        try "environments: []\nenvironmentsDirectory: \(directory.file("d"))\n".write(toFile: directory.file("vice.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: directory.file("d"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: example, toPath: directory.file("d/\(backend).yaml"))
        let secret = directory.file("pool-secret")
        try "s3cret\n".write(toFile: secret, atomically: true, encoding: .utf8)
        let text = try String(contentsOfFile: directory.file("d/\(backend).yaml"), encoding: .utf8)
            .replacingOccurrences(of: "/etc/vice/secrets/pool-satellite", with: secret)
        try text.write(toFile: directory.file("d/\(backend).yaml"), atomically: true, encoding: .utf8)
        let outcome = EnvironmentLoader(configurationPath: directory.file("vice.yaml"),
                                        environment: ["CAMPUS_OPENSTACK_PASSWORD": "x"]).load()
        #expect(outcome.problems.isEmpty, "\(outcome.problems)")
        #expect(outcome.environments.count == 1)
        #expect(outcome.environments.first?.environment.adapterKind == backend)
    }

    @Test func theServersDefaultConfigurationDeclaresTheDemoEnvironment() throws {
        let outcome = EnvironmentLoader(configurationPath: Self.root.appendingPathComponent("config/vice.yaml").path,
                                        workingDirectory: Self.root.path).load()
        #expect(outcome.problems.isEmpty, "\(outcome.problems)")
        #expect(outcome.environments.map(\.id) == ["demo-memory"])
    }
}
