import Foundation
import Logging
import PostgresNIO
import ViceCore
import ViceSupport

/// Holds one connection that LISTENs on the store's channels, and makes a new one when it breaks.
final class PostgresListener: @unchecked Sendable {
    private let pool: PostgresConnectionPool
    private let channels: [String]
    private let logger: Logger
    private let handler: @Sendable (String, String) -> Void
    private let state = LockedBox<(stopped: Bool, connection: PostgresConnection?)>((false, nil))

    init(pool: PostgresConnectionPool, channels: [String], logger: Logger, handler: @escaping @Sendable (String, String) -> Void) {
        self.pool = pool
        self.channels = channels
        self.logger = logger
        self.handler = handler
    }

    func start() {
        // A thread of its own: it blocks while the connection lives.
        Thread.detachNewThread { [self] in
            while !state.withLock({ $0.stopped }) {
                do {
                    let connection = try pool.dedicatedConnection()
                    let stopped = state.withLock { state -> Bool in
                        state.connection = connection
                        return state.stopped
                    }
                    if stopped { try? connection.close().wait(); break }
                    for channel in channels {
                        _ = connection.addListener(channel: channel) { [handler] _, notification in
                            handler(notification.channel, notification.payload)
                        }
                    }
                    try? connection.closeFuture.wait()
                } catch {
                    logger.warning("cannot listen for other nodes' jobs and events", metadata: ["error": "\(PostgresErrors.describe(error))"])
                }
                if !state.withLock({ $0.stopped }) { Thread.sleep(forTimeInterval: 1) }
            }
        }
    }

    func stop() {
        let connection = state.withLock { state -> PostgresConnection? in
            state.stopped = true
            return state.connection
        }
        try? connection?.close().wait()
    }
}
