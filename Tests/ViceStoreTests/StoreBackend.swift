import Foundation
import Testing
import ViceCore
import VicePostgres
import ViceSQLite
import ViceTestSupport

/// The implementations of the metadata seam the conformance suite runs against.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    typealias Store = any MetadataStore & JobQueue

    /// A store on a database of its own, and a way to open a second store on the same data (a
    /// restart, or another node).
    struct Fixture: Sendable {
        let store: Store
        let reopen: @Sendable () async throws -> Store
        /// Keeps the SQLite file's folder for as long as the fixture lives.
        let directory: TemporaryDirectory?
    }

    func makeStore() async throws -> Fixture {
        switch self {
        case .sqlite:
            let directory = try TemporaryDirectory()
            let path = directory.file("db/vice.sqlite")
            return Fixture(store: try SQLiteStore(path: path), reopen: { try SQLiteStore(path: path) }, directory: directory)
        case .postgres:
            let settings = try await Self.freshPostgresDatabase()
            let store = try await PostgresStore(settings: settings)
            return Fixture(store: store, reopen: { try await PostgresStore(settings: settings) }, directory: nil)
        }
    }

    /// The server `script/test` started (`VICE_TEST_POSTGRES_URL`); the PostgreSQL tests fail,
    /// never skip, without it.
    static func postgresSettings() throws -> PostgresStore.Settings {
        guard let url = ProcessInfo.processInfo.environment["VICE_TEST_POSTGRES_URL"] else {
            throw StoreTestError(description: "VICE_TEST_POSTGRES_URL is not set: run the tests with script/test, which starts PostgreSQL")
        }
        return try PostgresStore.Settings(url: url, poolSize: 4)
    }

    /// A new, empty database on the test server.
    static func freshPostgresDatabase() async throws -> PostgresStore.Settings {
        let settings = try postgresSettings()
        let name = "vice_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await PostgresStore.createDatabase(name, on: settings)
        return settings.with(database: name)
    }
}

struct StoreTestError: Error, CustomStringConvertible {
    var description: String
}
