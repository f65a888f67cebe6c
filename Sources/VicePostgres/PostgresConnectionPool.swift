import Foundation
import Logging
import NIOCore
import PostgresNIO
import ViceCore

/// A fixed number of connections, lent to one blocking caller at a time. Store bodies are
/// synchronous (`MetadataReader`'s methods do not suspend), so they run on threads of their own
/// and wait for each query there; a lent connection is used by nothing else meanwhile.
final class PostgresConnectionPool: @unchecked Sendable {
    private let configuration: PostgresConnection.Configuration
    private let group: any EventLoopGroup
    private let size: Int
    private let logger: Logger
    private let condition = NSCondition()
    private var idle: [PostgresConnection] = []
    private var open = 0
    private var nextID = 0
    private var closed = false
    /// How long a caller waits for a connection before the store answers "unavailable".
    private let checkoutTimeout: TimeInterval = 30

    init(configuration: PostgresConnection.Configuration, group: any EventLoopGroup, size: Int, logger: Logger) {
        self.configuration = configuration
        self.group = group
        self.size = max(1, size)
        self.logger = logger
    }

    /// Runs `body` with a connection of the pool. Blocks: call it off the cooperative pool.
    /// A connection that broke, or that `body` marks unusable by closing it, is not returned.
    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try checkout()
        defer { checkin(connection) }
        return try body(connection)
    }

    /// A connection of its own, outside the pool (the notification listener holds one for good).
    func dedicatedConnection() throws -> PostgresConnection {
        let id = condition.withLock { () -> Int in nextID += 1; return nextID }
        return try connect(id: id)
    }

    func shutdown() {
        let connections = condition.withLock { () -> [PostgresConnection] in
            closed = true
            defer { idle = [] }
            condition.broadcast()
            return idle
        }
        for connection in connections { try? connection.close().wait() }
    }

    private func checkout() throws -> PostgresConnection {
        let deadline = Date().addingTimeInterval(checkoutTimeout)
        condition.lock()
        while true {
            if closed {
                condition.unlock()
                throw ViceError(.unavailable, "the database connections are closed (shutting down)")
            }
            if let connection = idle.popLast() {
                if connection.isClosed {
                    open -= 1
                    continue
                }
                condition.unlock()
                return connection
            }
            if open < size {
                open += 1
                nextID += 1
                let id = nextID
                condition.unlock()
                do {
                    return try connect(id: id)
                } catch {
                    condition.withLock {
                        open -= 1
                        condition.signal()
                    }
                    throw error
                }
            }
            guard condition.wait(until: deadline) else {
                condition.unlock()
                throw ViceError(.unavailable, "no database connection became free within \(Int(checkoutTimeout)) s")
            }
        }
    }

    private func checkin(_ connection: PostgresConnection) {
        let close = condition.withLock { () -> Bool in
            defer { condition.signal() }
            if connection.isClosed || closed {
                open -= 1
                return !connection.isClosed
            }
            idle.append(connection)
            return false
        }
        if close { try? connection.close().wait() }
    }

    private func connect(id: Int) throws -> PostgresConnection {
        do {
            return try PostgresConnection.connect(on: group.next(), configuration: configuration, id: id, logger: logger).wait()
        } catch {
            throw ViceError(.unavailable, "cannot connect to PostgreSQL: \(PostgresErrors.describe(error))", cause: error)
        }
    }
}
