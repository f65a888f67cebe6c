package import Foundation
package import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
package import ViceCore
import ViceSupport

/// The metadata store and job queue of several registry nodes: one PostgreSQL database they all
/// use. Records are kept as the SQLite store keeps them (a JSON document plus the columns queries
/// use); writes are serialized across nodes by an advisory lock, reads see a snapshot, claims
/// take a due job with `FOR UPDATE SKIP LOCKED` and give it a larger fencing token, and a
/// `NOTIFY` wakes the idle workers and event streams of every node when a job or event is new.
package final class PostgresStore: MetadataStore, JobQueue, @unchecked Sendable {
    /// Where and how to connect.
    package struct Settings: Sendable {
        package var host: String
        package var port: Int
        package var username: String
        package var password: String?
        package var database: String
        /// `disable`, `prefer` or `require` (TLS with the system's trusted roots).
        package var tls: TLSMode
        package var poolSize: Int

        package enum TLSMode: String, Sendable { case disable, prefer, require }

        package init(host: String, port: Int = 5432, username: String, password: String? = nil, database: String,
                     tls: TLSMode = .prefer, poolSize: Int = 8) {
            self.host = host
            self.port = port
            self.username = username
            self.password = password
            self.database = database
            self.tls = tls
            self.poolSize = poolSize
        }
    }

    static let jobChannel = "vice_jobs"
    static let eventChannel = "vice_events"

    private let pool: PostgresConnectionPool
    private let poolSize: Int
    /// Store bodies run here, one per connection: they block on each query.
    private let threads: NIOThreadPool
    private let logger: Logger
    private let listening = LockedBox<PostgresListener?>(nil)

    /// Connects and applies the schema migrations this database lacks (nodes starting together
    /// migrate once: the first waits for nothing, the second for the first).
    package init(settings: Settings, logger: Logger = Logger(label: "vice.postgres")) async throws {
        var configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: try Self.tls(settings.tls))
        configuration.options.connectTimeout = .seconds(10)
        // A node that stalls inside a transaction (paused, cut off) holds the write lock: the
        // server ends such a session after 30 s, so the other nodes wait no longer than that.
        configuration.options.additionalStartupParameters = [("idle_in_transaction_session_timeout", "30s"),
                                                             ("application_name", "vice")]
        self.logger = logger
        pool = PostgresConnectionPool(configuration: configuration, group: MultiThreadedEventLoopGroup.singleton,
                                      size: settings.poolSize, logger: logger)
        poolSize = max(1, settings.poolSize)
        threads = NIOThreadPool(numberOfThreads: max(1, settings.poolSize))
        threads.start()
        do {
            let applied = try await threads.runIfActive { [pool, logger] in
                try pool.withConnection { try PostgresSchema.migrate(SQLRunner(connection: $0, logger: logger)) }
            }
            if !applied.isEmpty { logger.notice("database schema migrated", metadata: ["versions": "\(applied)"]) }
        } catch {
            shutdown()
            throw PostgresErrors.map(error)
        }
    }

    private static func tls(_ mode: Settings.TLSMode) throws -> PostgresConnection.Configuration.TLS {
        switch mode {
        case .disable: return .disable
        case .prefer: return .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }

    /// Closes every connection. The store cannot be used afterwards.
    package func shutdown() {
        listening.withLock { $0 }?.stop()
        pool.shutdown()
        try? threads.syncShutdownGracefully()
    }

    deinit { shutdown() }

    // MARK: MetadataStore

    package func read<T: Sendable>(_ body: @escaping @Sendable (any MetadataReader) throws -> T) async throws -> T {
        try await transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", lock: false) {
            try body(PostgresTransaction(sql: $0, writing: false))
        }
    }

    package func write<T: Sendable>(_ body: @escaping @Sendable (any MetadataWriter) throws -> T) async throws -> T {
        try await transaction(begin: "BEGIN", lock: true) { try body(PostgresTransaction(sql: $0, writing: true)) }
    }

    /// Runs `body` in one transaction on a thread of the store's, again (up to three times) when
    /// PostgreSQL resolved a deadlock or serialization conflict by aborting it, and on another
    /// connection when the one lent was found broken before the transaction began (the server
    /// restarted or ended the session: every idle connection of the pool is broken then).
    func transaction<T: Sendable>(begin: String, lock: Bool,
                                          _ body: @escaping @Sendable (SQLRunner) throws -> T) async throws -> T {
        let attemptsOnBrokenConnections = poolSize + 1
        do {
            return try await threads.runIfActive { [pool, logger] in
                var conflicts = 1, broken = 1
                while true {
                    do {
                        return try pool.withConnection { connection in
                            try Self.run(SQLRunner(connection: connection, logger: logger), begin: begin, lock: lock, body)
                        }
                    } catch where PostgresErrors.isRetryable(error) && conflicts < 3 {
                        conflicts += 1
                    } catch let failure as BeginFailed where broken < attemptsOnBrokenConnections {
                        _ = failure
                        broken += 1
                    } catch let failure as BeginFailed {
                        throw failure.cause
                    }
                }
            }
        } catch {
            throw PostgresErrors.map(error)
        }
    }

    /// The transaction could not even begin: nothing of it ran, so it may run on another connection.
    private struct BeginFailed: Error {
        let cause: any Error
    }

    private static func run<T>(_ sql: SQLRunner, begin: String, lock: Bool, _ body: (SQLRunner) throws -> T) throws -> T {
        do {
            try sql.run(begin)
        } catch {
            // Closed, so that the pool does not lend it again.
            _ = try? sql.connection.close().wait()
            throw BeginFailed(cause: error)
        }
        do {
            if lock { try sql.run("SELECT pg_advisory_xact_lock(?)", [PostgresSchema.writeLock]) }
            let result = try body(sql)
            try sql.run("COMMIT")
            return result
        } catch {
            // A connection whose transaction cannot be ended is closed, never lent again mid-transaction.
            do { try sql.run("ROLLBACK") } catch { _ = try? sql.connection.close().wait() }
            throw error
        }
    }

    /// One statement outside a transaction (it commits by itself).
    func statement<T: Sendable>(_ body: @escaping @Sendable (SQLRunner) throws -> T) async throws -> T {
        do {
            return try await threads.runIfActive { [pool, logger] in
                try pool.withConnection { try body(SQLRunner(connection: $0, logger: logger)) }
            }
        } catch {
            throw PostgresErrors.map(error)
        }
    }

    // MARK: JobQueue

    package func claim(queue: JobQueueName, owner: String, lease: TimeInterval, now: Date) async throws -> Job? {
        try await statement { sql in
            try sql.row("""
                WITH next AS (
                    SELECT seq FROM jobs
                    WHERE queue = ? AND ((state = 'pending' AND run_at <= ?) OR (state = 'running' AND lease_expires < ?))
                    ORDER BY run_at, seq LIMIT 1
                    FOR UPDATE SKIP LOCKED)
                UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?, lease_expires = ?,
                    started_at = ?, updated_at = ?, lease_token = lease_token + 1
                FROM next WHERE jobs.seq = next.seq
                RETURNING jobs.*
                """, [queue.rawValue, now.timeIntervalSince1970, now.timeIntervalSince1970, owner,
                      now.addingTimeInterval(lease).timeIntervalSince1970, now.timeIntervalSince1970, now.timeIntervalSince1970])
            .map(PostgresTransaction.job(from:))
        }
    }

    package func renewLease(jobID: String, owner: String, token: Int64, until: Date) async throws -> LeaseRenewal {
        try await statement { sql in
            let row = try sql.row("""
                UPDATE jobs SET lease_expires = ? WHERE id = ? AND lease_owner = ? AND lease_token = ? AND state = 'running'
                RETURNING cancel_requested
                """, [until.timeIntervalSince1970, jobID, owner, token])
            switch try row?.get("cancel_requested", as: Bool.self) {
            case nil: return .lost
            case false?: return .kept
            case true?: return .cancelRequested
            }
        }
    }

    package func release(jobID: String, owner: String, token: Int64) async throws {
        try await statement { sql in
            let released = try sql.row("""
                UPDATE jobs SET state = 'pending', attempts = GREATEST(attempts - 1, 0), lease_owner = NULL, lease_expires = NULL
                WHERE id = ? AND lease_owner = ? AND lease_token = ? AND state = 'running'
                RETURNING queue
                """, [jobID, owner, token])
            // Another node may take it at once.
            if let queue = try released?.get("queue", as: String.self) {
                try sql.run("SELECT pg_notify(?, ?)", [Self.jobChannel, queue])
            }
        }
    }

    /// Nothing: other nodes may be running the jobs that are running now. A job left running by
    /// a node that died is claimed again when its lease runs out.
    package func requeueAbandoned() async throws -> Int { 0 }

    // MARK: notifications

    /// Calls `job` with the queue of every job that became due on any node, and `event` for every
    /// new event, until `shutdown`. Reconnects when the connection breaks (notifications sent
    /// meanwhile are lost; workers and streams still poll).
    package func listen(job: @escaping @Sendable (JobQueueName) -> Void, event: @escaping @Sendable () -> Void) {
        let listener = PostgresListener(pool: pool, channels: [Self.jobChannel, Self.eventChannel], logger: logger) { channel, payload in
            if channel == Self.eventChannel {
                event()
            } else if let queue = JobQueueName(rawValue: payload) {
                job(queue)
            }
        }
        listening.withLock { $0 = listener }
        listener.start()
    }

    // MARK: for tests and `vice migrate`

    /// Every value of every table, as the server returns it (text as UTF-8, bytes as they are):
    /// what someone with a copy of the database would read. Tests check secrets are not in it.
    package func storedContents() async throws -> Data {
        try await statement { sql in
            var contents = Data()
            let tables = try sql.rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
                .map { try $0.get("tablename", as: String.self) }
            for table in tables {
                for row in try sql.run("SELECT * FROM \"\(table)\"").rows {
                    for cell in row {
                        if var bytes = cell.bytes, let data = bytes.readBytes(length: bytes.readableBytes) { contents.append(contentsOf: data) }
                        contents.append(0)
                    }
                }
            }
            return contents
        }
    }

    /// Runs `sql` with `values` outside a transaction (tests use it to look behind the seam).
    package func execute(_ sql: String, _ values: [String] = []) async throws -> Int {
        try await statement { try $0.changes(sql, values) }
    }
}
