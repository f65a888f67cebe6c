import Logging
import PostgresNIO

/// A bound value: anything PostgresNIO encodes, or NULL.
typealias SQLValue = (any PostgresThrowingDynamicTypeEncodable)?

/// Runs statements written with `?` placeholders (as the SQLite store writes them) on one
/// connection, waiting for each. Never call it on an event loop or the cooperative pool.
struct SQLRunner {
    let connection: PostgresConnection
    let logger: Logger

    @discardableResult
    func run(_ sql: String, _ values: [SQLValue] = []) throws -> PostgresQueryResult {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            if let value { try bindings.append(value) } else { bindings.appendNull() }
        }
        let query = PostgresQuery(unsafeSQL: Self.numbered(sql), binds: bindings)
        return try connection.query(query, logger: logger).wait()
    }

    func rows(_ sql: String, _ values: [SQLValue] = []) throws -> [PostgresRandomAccessRow] {
        try run(sql, values).rows.map { $0.makeRandomAccess() }
    }

    func row(_ sql: String, _ values: [SQLValue] = []) throws -> PostgresRandomAccessRow? {
        try rows(sql, values).first
    }

    /// How many rows a statement changed.
    func changes(_ sql: String, _ values: [SQLValue] = []) throws -> Int {
        try run(sql, values).metadata.rows ?? 0
    }

    /// `?` → `$1`, `$2`, …, outside quoted strings and identifiers.
    static func numbered(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.count + 16)
        var number = 0
        var quote: Character?
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                result.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                result.append(character)
            } else if character == "?" {
                number += 1
                result += "$\(number)"
            } else {
                result.append(character)
            }
        }
        return result
    }
}

extension PostgresRandomAccessRow {
    /// The column `name` as `T` (an optional type for a nullable column).
    func get<T: PostgresDecodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        try self[name].decode(T.self)
    }
}
