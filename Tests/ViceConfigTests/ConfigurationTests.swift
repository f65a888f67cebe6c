import Foundation
import Testing
import ViceConfig
import ViceTestSupport

@Suite struct ConfigurationTests {
    func load(_ text: String, environment: [String: String] = [:]) throws -> ViceConfiguration {
        try YAMLDecoder(environment: environment).decode(ViceConfiguration.self, from: text, file: "test.yaml")
    }

    func error(_ text: String, environment: [String: String] = [:]) -> ConfigError? {
        do {
            _ = try load(text, environment: environment)
            return nil
        } catch let error as ConfigError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func anEmptyFileGivesTheDefaults() throws {
        let configuration = try load("")
        #expect(configuration == ViceConfiguration())
        #expect(configuration.server.host == "127.0.0.1")
        #expect(configuration.server.port == 8080)
        #expect(configuration.database.sqlite == "data/vice.sqlite")
        #expect(configuration.security.openRegistration == false)
        #expect(configuration.adapters.memory.enabled == false)
    }

    @Test func everySectionIsRead() throws {
        let configuration = try load("""
            server: {host: 0.0.0.0, port: 9090}
            storage:
              path: /srv/vice/store
            database:
              sqlite: /srv/vice/db.sqlite
            workers:
              import: 4
              export: 3
              store: 1
              shutdownGraceSeconds: 5
              maxAttempts: 7
            security:
              credentialKeyFile: /etc/vice/key
              openRegistration: yes
              bcryptCost: 10
              adminPasswordFile: /root/admin
            adapters:
              memory:
                enabled: true
            logging:
              level: debug
              format: json
            """)
        #expect(configuration.server.host == "0.0.0.0")
        #expect(configuration.server.port == 9090)
        #expect(configuration.storage.path == "/srv/vice/store")
        #expect(configuration.database.sqlite == "/srv/vice/db.sqlite")
        #expect(configuration.workers.import == 4 && configuration.workers.export == 3 && configuration.workers.store == 1)
        #expect(configuration.workers.shutdownGraceSeconds == 5 && configuration.workers.maxAttempts == 7)
        #expect(configuration.security.credentialKeyFile == "/etc/vice/key")
        #expect(configuration.security.openRegistration)
        #expect(configuration.security.bcryptCost == 10)
        #expect(configuration.adapters.memory.enabled)
        #expect(configuration.logging.level == .debug && configuration.logging.format == .json)
    }

    @Test func variablesAreReplacedFromTheEnvironment() throws {
        let configuration = try load("""
            server:
              host: ${HOST}
              port: ${PORT:-8181}
            storage:
              path: "${ROOT}/store-$$1"
            """, environment: ["HOST": "10.0.0.1", "ROOT": "/data"])
        #expect(configuration.server.host == "10.0.0.1")
        #expect(configuration.server.port == 8181)
        #expect(configuration.storage.path == "/data/store-$1")
    }

    @Test func aSharedPostgreSQLDatabaseTakesItsPasswordFromAFileOrTheEnvironment() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vice-config-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let secret = directory.appendingPathComponent("pg-password")
        try "from a file\n".write(to: secret, atomically: true, encoding: .utf8)
        let fromFile = try load("database:\n  postgres:\n    url: postgres://vice@db:5432/vice\n    password: file:\(secret.path)\n")
        #expect(fromFile.database.postgres == PostgresSettings(url: "postgres://vice@db:5432/vice", password: "from a file", poolSize: 8))
        let fromVariable = try load("database:\n  postgres:\n    url: postgres://vice@db/vice\n    password: ${PG}\n    poolSize: 3\n",
                                    environment: ["PG": "from the environment"])
        #expect(fromVariable.database.postgres?.password == "from the environment" && fromVariable.database.postgres?.poolSize == 3)
        #expect(try load("").database.postgres == nil, "SQLite unless a database is named")
        #expect(error("database:\n  postgres:\n    url: mysql://db/vice\n")?.reason.contains("postgres:// URL") == true)
        #expect(error("database:\n  postgres:\n    url: postgres://u@db/vice\n    poolSize: 0\n") != nil)
        #expect(error("database:\n  postgres:\n    url: postgres://u@db/vice\n    password: file:/nonexistent/pw\n")?.reason
            .contains("cannot read the file") == true)
        #expect(error("workers:\n  leaseSeconds: 1\n")?.reason.contains("between 3 and 3600") == true)
        #expect(try load("workers:\n  leaseSeconds: 10\n").workers.leaseSeconds == 10)
    }

    @Test func metricsAreOffUnlessConfiguredAndATokenMustBeLongEnough() throws {
        #expect(try load("").metrics.access == .off)
        #expect(try load("metrics:\n  access: open\n").metrics.access == .open)
        #expect(error("metrics:\n  access: token\n")?.reason.contains("at least 16 characters") == true)
        #expect(error("metrics:\n  access: token\n  token: short\n")?.reason.contains("at least 16 characters") == true)
        #expect(error("metrics:\n  access: everyone\n") != nil)
        #expect(error("metrics:\n  environmentHealthSeconds: 5\n")?.reason.contains("0 (off) or from 10") == true)
        let dir = try TemporaryDirectory()
        let file = dir.url.appendingPathComponent("scrape-token")
        try "a-scrape-token-from-a-file\n".write(to: file, atomically: true, encoding: .utf8)
        let metrics = try load("metrics:\n  access: token\n  token: file:\(file.path)\n").metrics
        #expect(metrics.token == "a-scrape-token-from-a-file")
    }

    @Test func aMissingVariableIsAnErrorAtItsPlace() {
        let failure = error("server:\n  port: 80\n  host: ${NOT_SET}\n")
        #expect(failure?.description == "test.yaml:3:9: environment variable NOT_SET is not set")
    }

    @Test func unknownKeysAreErrorsNamingTheKnownOnes() {
        let failure = error("server:\n  host: x\n  prot: 80\n")
        #expect(failure?.mark == SourceMark(line: 3, column: 3))
        #expect(failure?.reason.contains("unknown key 'prot'") == true)
        #expect(failure?.reason.contains("host, port") == true)
        let topLevel = error("servre:\n  port: 1\n")
        #expect(topLevel?.mark?.line == 1)
        #expect(topLevel?.reason.hasPrefix("unknown key 'servre'") == true)
    }

    @Test func wrongTypesAndValuesAreErrorsWithTheirLocation() {
        let port = error("server:\n  port: eighty\n")
        #expect(port?.description == "test.yaml:2:9: server.port: expected a whole number, found 'eighty'")
        let range = error("server:\n  port: 70000\n")
        #expect(range?.mark == SourceMark(line: 2, column: 9))
        #expect(range?.reason.contains("between 0 and 65535") == true)
        let flag = error("security:\n  openRegistration: maybe\n")
        #expect(flag?.reason.contains("expected true or false") == true)
        let level = error("logging:\n  level: loud\n")
        #expect(level?.reason.contains("'loud' is not one of") == true)
        let section = error("server: 8080\n")
        #expect(section?.reason.contains("expected a mapping") == true)
        let workers = error("workers:\n  import: 100\n")
        #expect(workers?.mark?.line == 2)
    }

    @Test func brokenYAMLIsReportedWithLineAndColumn() {
        let failure = error("server:\n  host: [unclosed\n  port: 1\n")
        #expect(failure?.reason.hasPrefix("invalid YAML") == true)
        #expect((failure?.mark?.line ?? 0) >= 2)
        let duplicate = error("server:\n  port: 1\n  port: 2\n")
        #expect(duplicate?.reason == "duplicate key 'port'")
        #expect(duplicate?.mark?.line == 3)
    }

    @Test func theShippedConfigurationIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let configuration = try ViceConfiguration.load(path: root.appendingPathComponent("config/vice.yaml").path, environment: [:])
        #expect(configuration.server.port == 8080)
        #expect(configuration.server.host == "127.0.0.1")
        #expect(configuration.database.sqlite.hasPrefix("data/"))
        #expect(configuration.storage.path.hasPrefix("data/"))
    }

    @Test func aMissingFileIsReported() {
        #expect(throws: ConfigError.self) { try ViceConfiguration.load(path: "/nonexistent/vice.yaml") }
    }
}
