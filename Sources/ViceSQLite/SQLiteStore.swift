package import Foundation
import GRDB
package import ViceCore

/// The embedded metadata store and durable job queue: one SQLite file in WAL mode. Records keep
/// their JSON document plus the columns that queries filter and order on; `seq` gives lists a
/// stable creation order for `limit` + `marker` pagination.
package final class SQLiteStore: MetadataStore, JobQueue {
    let pool: DatabasePool

    /// Opens (and migrates) the database at `path`, creating its folder if needed.
    package init(path: String) throws {
        // 0600 from the first byte: the file holds password hashes and sealed credentials.
        // (SQLite gives its -wal and -shm files the main file's mode.)
        try SecretFile.createEmptyIfMissing(path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // FULL: a committed job or record survives power loss, not just a killed process.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(pool)
        } catch {
            throw ViceError(.internal, "cannot open the database at \(path): \(error)")
        }
    }

    package func read<T: Sendable>(_ body: @escaping @Sendable (any MetadataReader) throws -> T) async throws -> T {
        try await mapErrors { try await self.pool.read { db in try body(SQLiteTransaction(db: db)) } }
    }

    package func write<T: Sendable>(_ body: @escaping @Sendable (any MetadataWriter) throws -> T) async throws -> T {
        try await mapErrors { try await self.pool.write { db in try body(SQLiteTransaction(db: db)) } }
    }

    private func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw ViceError(.conflict, "duplicate id or name", cause: error)
        } catch let error as DatabaseError {
            throw ViceError(.unavailable, "database error: \(error.message ?? "\(error.resultCode)")", cause: error)
        }
    }

    // MARK: JobQueue

    package func claim(queue: JobQueueName, owner: String, lease: TimeInterval, now: Date) async throws -> Job? {
        try await pool.write { db in
            let row = try Row.fetchOne(db, sql: """
                UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?, lease_expires = ?,
                    started_at = ?, updated_at = ?, lease_token = lease_token + 1
                WHERE seq = (
                    SELECT seq FROM jobs
                    WHERE queue = ? AND ((state = 'pending' AND run_at <= ?) OR (state = 'running' AND lease_expires < ?))
                    ORDER BY run_at, seq LIMIT 1)
                RETURNING *
                """, arguments: [owner, now.addingTimeInterval(lease).timeIntervalSince1970, now.timeIntervalSince1970,
                                 now.timeIntervalSince1970, queue.rawValue,
                                 now.timeIntervalSince1970, now.timeIntervalSince1970])
            return try row.map(SQLiteTransaction.job(from:))
        }
    }

    package func renewLease(jobID: String, owner: String, token: Int64, until: Date) async throws -> LeaseRenewal {
        try await pool.write { db in
            let cancel = try Bool.fetchOne(db, sql: """
                UPDATE jobs SET lease_expires = ? WHERE id = ? AND lease_owner = ? AND lease_token = ? AND state = 'running'
                RETURNING cancel_requested
                """, arguments: [until.timeIntervalSince1970, jobID, owner, token])
            switch cancel {
            case nil: return .lost
            case false?: return .kept
            case true?: return .cancelRequested
            }
        }
    }

    package func release(jobID: String, owner: String, token: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE jobs SET state = 'pending', attempts = MAX(attempts - 1, 0), lease_owner = NULL, lease_expires = NULL
                WHERE id = ? AND lease_owner = ? AND lease_token = ? AND state = 'running'
                """, arguments: [jobID, owner, token])
        }
    }

    package func requeueAbandoned() async throws -> Int {
        try await pool.write { db in
            // The attempt stays counted: a job that kills the process each time still runs out of tries.
            try db.execute(sql: "UPDATE jobs SET state = 'pending', lease_owner = NULL, lease_expires = NULL WHERE state = 'running'")
            return db.changesCount
        }
    }

    // MARK: schema

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE users (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
                    password_hash TEXT NOT NULL,
                    email TEXT,
                    fullname TEXT,
                    is_admin INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL);
                CREATE TABLE environments (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    userid TEXT NOT NULL,
                    ml_type TEXT, ml_software TEXT, rt_type TEXT, rt_software TEXT,
                    doc BLOB NOT NULL,
                    sealed_credentials BLOB);
                CREATE INDEX environments_by_user ON environments(userid, seq);
                CREATE TABLE images (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    userid TEXT NOT NULL,
                    title TEXT, contenttype TEXT, imagetype TEXT, status TEXT, checksum TEXT,
                    origin_environment_id TEXT,
                    doc BLOB NOT NULL,
                    sealed_origin BLOB);
                CREATE INDEX images_by_user ON images(userid, seq);
                CREATE INDEX images_by_checksum ON images(checksum);
                CREATE TABLE deployments (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    userid TEXT NOT NULL,
                    imageid TEXT, environment_id TEXT, status TEXT,
                    doc BLOB NOT NULL);
                CREATE INDEX deployments_by_user ON deployments(userid, seq);
                CREATE TABLE jobs (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    queue TEXT NOT NULL,
                    subject_id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    max_attempts INTEGER NOT NULL,
                    run_at REAL NOT NULL,
                    lease_owner TEXT,
                    lease_expires REAL,
                    last_error TEXT,
                    created_at REAL NOT NULL);
                CREATE INDEX jobs_due ON jobs(queue, state, run_at);
                CREATE INDEX jobs_by_subject ON jobs(subject_id);
                """)
        }
        migrator.registerMigration("v2: job payloads") { db in
            try db.execute(sql: "ALTER TABLE jobs ADD COLUMN payload TEXT")
        }
        migrator.registerMigration("v3: API tokens") { db in
            try db.execute(sql: """
                CREATE TABLE tokens (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    user_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    secret_hash TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    expires_at REAL NOT NULL);
                CREATE INDEX tokens_by_user ON tokens(user_id, seq);
                """)
        }
        migrator.registerMigration("v4: audit log") { db in
            try db.execute(sql: """
                CREATE TABLE audit (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    time REAL NOT NULL,
                    user_id TEXT, username TEXT, action TEXT NOT NULL, subject TEXT,
                    outcome TEXT NOT NULL, status INTEGER, address TEXT, detail TEXT);
                CREATE INDEX audit_by_user ON audit(username, seq);
                CREATE INDEX audit_by_time ON audit(time);
                """)
        }
        migrator.registerMigration("v5: reader role") { db in
            try db.execute(sql: "ALTER TABLE users ADD COLUMN is_reader INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v6: image visibility") { db in
            try db.execute(sql: """
                ALTER TABLE images ADD COLUMN visibility TEXT NOT NULL DEFAULT 'private';
                ALTER TABLE images ADD COLUMN members TEXT NOT NULL DEFAULT ',';
                CREATE INDEX images_by_visibility ON images(visibility, seq);
                """)
        }
        migrator.registerMigration("v7: environment members") { db in
            try db.execute(sql: "ALTER TABLE environments ADD COLUMN members TEXT NOT NULL DEFAULT ','")
        }
        migrator.registerMigration("v8: disabled users") { db in
            try db.execute(sql: "ALTER TABLE users ADD COLUMN is_disabled INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v9: jobs kept, progress, events, webhooks") { db in
            try db.execute(sql: """
                ALTER TABLE jobs ADD COLUMN owner_id TEXT;
                ALTER TABLE jobs ADD COLUMN error_kind TEXT;
                ALTER TABLE jobs ADD COLUMN phase TEXT;
                ALTER TABLE jobs ADD COLUMN bytes_done INTEGER;
                ALTER TABLE jobs ADD COLUMN bytes_total INTEGER;
                ALTER TABLE jobs ADD COLUMN started_at REAL;
                ALTER TABLE jobs ADD COLUMN finished_at REAL;
                ALTER TABLE jobs ADD COLUMN updated_at REAL;
                ALTER TABLE jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
                UPDATE jobs SET updated_at = created_at, owner_id = COALESCE(
                    (SELECT userid FROM images WHERE images.id = jobs.subject_id),
                    (SELECT userid FROM deployments WHERE deployments.id = jobs.subject_id));
                CREATE INDEX jobs_by_owner ON jobs(owner_id, seq);
                CREATE INDEX jobs_finished ON jobs(finished_at);
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    time REAL NOT NULL,
                    kind TEXT NOT NULL,
                    owner_id TEXT,
                    subject_id TEXT NOT NULL,
                    data BLOB NOT NULL);
                CREATE INDEX events_by_owner ON events(owner_id, seq);
                CREATE INDEX events_by_time ON events(time);
                CREATE TABLE webhooks (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    userid TEXT NOT NULL,
                    doc BLOB NOT NULL,
                    sealed_secret BLOB NOT NULL);
                CREATE INDEX webhooks_by_user ON webhooks(userid, seq);
                """)
        }
        migrator.registerMigration("v10: fencing tokens") { db in
            try db.execute(sql: "ALTER TABLE jobs ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0")
        }
        return migrator
    }
}
