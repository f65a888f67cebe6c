import Foundation
import Logging
import PostgresNIO
import ViceCore

/// The schema, as numbered migrations. Every node applies the missing ones at start-up inside one
/// transaction that first takes an advisory lock: nodes starting together wait for each other,
/// and the second finds nothing left to do. DDL is transactional in PostgreSQL, so a migration
/// that fails leaves the schema as it was.
enum PostgresSchema {
    /// The advisory lock of migrations ("vice" + 1).
    static let migrationLock: Int64 = 0x7669_6365_0001
    /// The advisory lock every write transaction takes: writes are serialized across nodes as
    /// SQLite serializes them in one process, so event numbers rise in commit order and
    /// check-then-write use cases stay correct.
    static let writeLock: Int64 = 0x7669_6365_0002

    struct Migration {
        let version: Int
        let name: String
        let sql: String
    }

    static let migrations: [Migration] = [
        Migration(version: 1, name: "records, jobs, events, webhooks", sql: """
            CREATE TABLE users (
                seq BIGSERIAL PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                username TEXT NOT NULL,
                password_hash TEXT NOT NULL,
                email TEXT,
                fullname TEXT,
                is_admin BOOLEAN NOT NULL DEFAULT false,
                is_reader BOOLEAN NOT NULL DEFAULT false,
                is_disabled BOOLEAN NOT NULL DEFAULT false,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL);
            CREATE UNIQUE INDEX users_by_username ON users (lower(username));
            CREATE TABLE environments (
                seq BIGSERIAL PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                userid TEXT NOT NULL,
                ml_type TEXT, ml_software TEXT, rt_type TEXT, rt_software TEXT,
                doc BYTEA NOT NULL,
                sealed_credentials BYTEA,
                members TEXT NOT NULL DEFAULT ',');
            CREATE INDEX environments_by_user ON environments (userid, seq);
            CREATE TABLE images (
                seq BIGSERIAL PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                userid TEXT NOT NULL,
                title TEXT, contenttype TEXT, imagetype TEXT, status TEXT, checksum TEXT,
                origin_environment_id TEXT,
                doc BYTEA NOT NULL,
                sealed_origin BYTEA,
                visibility TEXT NOT NULL DEFAULT 'private',
                members TEXT NOT NULL DEFAULT ',');
            CREATE INDEX images_by_user ON images (userid, seq);
            CREATE INDEX images_by_checksum ON images (checksum);
            CREATE INDEX images_by_visibility ON images (visibility, seq);
            CREATE TABLE deployments (
                seq BIGSERIAL PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                userid TEXT NOT NULL,
                imageid TEXT, environment_id TEXT, status TEXT,
                doc BYTEA NOT NULL);
            CREATE INDEX deployments_by_user ON deployments (userid, seq);
            CREATE TABLE jobs (
                seq BIGSERIAL PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL,
                queue TEXT NOT NULL,
                subject_id TEXT NOT NULL,
                state TEXT NOT NULL,
                attempts BIGINT NOT NULL,
                max_attempts BIGINT NOT NULL,
                run_at DOUBLE PRECISION NOT NULL,
                lease_owner TEXT,
                lease_expires DOUBLE PRECISION,
                lease_token BIGINT NOT NULL DEFAULT 0,
                last_error TEXT,
                created_at DOUBLE PRECISION NOT NULL,
                payload TEXT,
                owner_id TEXT,
                error_kind TEXT,
                phase TEXT,
                bytes_done BIGINT,
                bytes_total BIGINT,
                started_at DOUBLE PRECISION,
                finished_at DOUBLE PRECISION,
                updated_at DOUBLE PRECISION,
                cancel_requested BOOLEAN NOT NULL DEFAULT false);
            CREATE INDEX jobs_due ON jobs (queue, state, run_at);
            CREATE INDEX jobs_by_subject ON jobs (subject_id);
            CREATE INDEX jobs_by_owner ON jobs (owner_id, seq);
            CREATE INDEX jobs_finished ON jobs (finished_at);
            CREATE TABLE tokens (
                seq BIGSERIAL PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                user_id TEXT NOT NULL,
                name TEXT NOT NULL,
                scope TEXT NOT NULL,
                secret_hash TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL);
            CREATE INDEX tokens_by_user ON tokens (user_id, seq);
            CREATE TABLE audit (
                seq BIGSERIAL PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                time DOUBLE PRECISION NOT NULL,
                user_id TEXT, username TEXT, action TEXT NOT NULL, subject TEXT,
                outcome TEXT NOT NULL, status BIGINT, address TEXT, detail TEXT);
            CREATE INDEX audit_by_user ON audit (lower(username), seq);
            CREATE INDEX audit_by_time ON audit (time);
            CREATE TABLE events (
                seq BIGSERIAL PRIMARY KEY,
                time DOUBLE PRECISION NOT NULL,
                kind TEXT NOT NULL,
                owner_id TEXT,
                subject_id TEXT NOT NULL,
                data BYTEA NOT NULL);
            CREATE INDEX events_by_owner ON events (owner_id, seq);
            CREATE INDEX events_by_time ON events (time);
            CREATE TABLE webhooks (
                seq BIGSERIAL PRIMARY KEY,
                id TEXT NOT NULL UNIQUE,
                userid TEXT NOT NULL,
                doc BYTEA NOT NULL,
                sealed_secret BYTEA NOT NULL);
            CREATE INDEX webhooks_by_user ON webhooks (userid, seq);
            """),
        Migration(version: 2, name: "blob leases shared by every node", sql: """
            CREATE TABLE blob_leases (
                id TEXT PRIMARY KEY,
                digest TEXT NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL);
            CREATE INDEX blob_leases_by_digest ON blob_leases (digest);
            CREATE TABLE blob_deletions (
                digest TEXT PRIMARY KEY,
                expires_at DOUBLE PRECISION NOT NULL);
            """),
    ]

    /// Applies the migrations this database lacks; returns their versions.
    static func migrate(_ sql: SQLRunner) throws -> [Int] {
        try sql.run("BEGIN")
        do {
            try sql.run("SELECT pg_advisory_xact_lock(?)", [migrationLock])
            try sql.run("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)
                """)
            let applied = Set(try sql.rows("SELECT version FROM schema_migrations").map { try $0.get("version", as: Int.self) })
            if let newest = applied.max(), newest > migrations.map(\.version).max() ?? 0 {
                throw ViceError(.internal, "the database has schema version \(newest), newer than this vice knows: upgrade vice")
            }
            var done: [Int] = []
            for migration in migrations where !applied.contains(migration.version) {
                // One statement per call: the extended protocol takes a single statement.
                for statement in migration.sql.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) })
                    where !statement.isEmpty {
                    try sql.run(statement)
                }
                try sql.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                            [migration.version, migration.name, Date().timeIntervalSince1970])
                done.append(migration.version)
            }
            try sql.run("COMMIT")
            return done
        } catch {
            _ = try? sql.run("ROLLBACK")
            throw error
        }
    }
}
