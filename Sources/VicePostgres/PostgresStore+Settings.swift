import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import ViceCore

extension PostgresStore.Settings {
    /// Reads `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require&pool=N]`
    /// (user and password percent-encoded). A password given apart (`password`) wins over one in the URL.
    package init(url text: String, password: String? = nil, poolSize: Int? = nil) throws {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? ""),
              let host = components.host, !host.isEmpty else {
            throw ViceError.invalidInput("a PostgreSQL URL looks like postgres://user@host:5432/database")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw ViceError.invalidInput("the PostgreSQL URL names no database (postgres://user@host/DATABASE)")
        }
        guard let user = components.percentEncodedUser?.removingPercentEncoding, !user.isEmpty else {
            throw ViceError.invalidInput("the PostgreSQL URL names no user (postgres://USER@host/database)")
        }
        var tls = TLSMode.prefer
        var pool = poolSize ?? 8
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw ViceError.invalidInput("sslmode must be disable, prefer or require")
                }
                tls = mode
            case "pool":
                guard let size = item.value.flatMap(Int.init), (1...200).contains(size) else {
                    throw ViceError.invalidInput("pool must be a number of connections from 1 to 200")
                }
                pool = size
            default:
                throw ViceError.invalidInput("unknown PostgreSQL URL parameter '\(item.name)' (known: sslmode, pool)")
            }
        }
        self.init(host: host, port: components.port ?? 5432, username: user,
                  password: password ?? components.percentEncodedPassword?.removingPercentEncoding,
                  database: database, tls: tls, poolSize: pool)
    }

    /// The same server and user with another database.
    package func with(database: String) -> Self {
        var copy = self
        copy.database = database
        return copy
    }
}

extension PostgresStore {
    /// Creates an empty database (tests make one per store; operators may too). Its name must be
    /// letters, digits and underscores.
    package static func createDatabase(_ name: String, on settings: Settings) async throws {
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) }) else {
            throw ViceError.invalidInput("a database name is lower-case letters, digits and underscores")
        }
        let connection = try await PostgresConnection.connect(
            configuration: PostgresConnection.Configuration(host: settings.host, port: settings.port, username: settings.username,
                                                            password: settings.password, database: settings.database, tls: .disable),
            id: 0, logger: Logger(label: "vice.postgres"))
        do {
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Logger(label: "vice.postgres"))
            try await connection.close()
        } catch {
            try? await connection.close()
            throw PostgresErrors.map(error)
        }
    }
}
