import NIOCore
import PostgresNIO
import ViceCore

/// What PostgreSQL's errors mean to the registry.
enum PostgresErrors {
    static let uniqueViolation = "23505"
    static let serializationFailure = "40001"
    static let deadlockDetected = "40P01"

    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// The server's message (PSQLError's own description is deliberately vague).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            return message + (error.serverInfo?[.detail].map { " (\($0))" } ?? "")
        }
        return "\(error.code)"
    }

    /// A store error as the registry reports it: duplicates are conflicts, the rest means the
    /// database cannot serve now.
    static func map(_ error: any Error) -> any Error {
        // What a store body threw itself (a ViceError, a caller's error) passes unchanged.
        guard error is PSQLError || error is ChannelError || error is IOError else { return error }
        switch sqlState(error) {
        case uniqueViolation?: return ViceError(.conflict, "duplicate id or name", cause: error)
        default: return ViceError(.unavailable, "database error: \(describe(error))", cause: error)
        }
    }

    /// Whether running the whole transaction again may succeed.
    static func isRetryable(_ error: any Error) -> Bool {
        [serializationFailure, deadlockDetected].contains(sqlState(error))
    }
}
