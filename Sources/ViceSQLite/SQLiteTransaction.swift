import Foundation
import GRDB
import ViceCore

/// `MetadataReader`/`MetadataWriter` over one GRDB database connection inside a transaction.
struct SQLiteTransaction: MetadataWriter {
    let db: Database

    private static let encoder = JSONEncoder()
    private static let decoder = JSONDecoder()

    private func encode<T: Encodable>(_ value: T) throws -> Data { try Self.encoder.encode(value) }
    private func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T { try Self.decoder.decode(type, from: data) }

    // MARK: users

    private func user(from row: Row) -> UserRecord {
        UserRecord(id: row["id"], username: row["username"], passwordHash: row["password_hash"], email: row["email"],
                   fullname: row["fullname"], isAdmin: row["is_admin"], isReader: row["is_reader"], isDisabled: row["is_disabled"],
                   createdAt: Date(timeIntervalSince1970: row["created_at"]),
                   updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
    }

    func user(id: String) throws -> UserRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM users WHERE id = ?", arguments: [id]).map(user(from:))
    }

    func user(username: String) throws -> UserRecord? {
        try Row.fetchOne(db, sql: "SELECT * FROM users WHERE username = ?", arguments: [username]).map(user(from:))
    }

    func users() throws -> [UserRecord] {
        try Row.fetchAll(db, sql: "SELECT * FROM users ORDER BY seq").map(user(from:))
    }

    func userCount() throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") ?? 0
    }

    func insertUser(_ user: UserRecord) throws {
        try db.execute(sql: """
            INSERT INTO users (id, username, password_hash, email, fullname, is_admin, is_reader, is_disabled, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [user.id, user.username, user.passwordHash, user.email, user.fullname, user.isAdmin, user.isReader, user.isDisabled,
                             user.createdAt.timeIntervalSince1970, user.updatedAt.timeIntervalSince1970])
    }

    func updateUser(_ user: UserRecord) throws {
        try db.execute(sql: """
            UPDATE users SET username = ?, password_hash = ?, email = ?, fullname = ?, is_admin = ?, is_reader = ?, is_disabled = ?,
                updated_at = ?
            WHERE id = ?
            """, arguments: [user.username, user.passwordHash, user.email, user.fullname, user.isAdmin, user.isReader, user.isDisabled,
                             user.updatedAt.timeIntervalSince1970, user.id])
    }

    func deleteUser(id: String) throws {
        try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [id])
    }

    // MARK: audit

    func auditEntries(_ query: AuditQuery) throws -> [AuditEntry] {
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let username = query.username { conditions.append("username = ? COLLATE NOCASE"); arguments.append(username) }
        if let action = query.action { conditions.append("action = ?"); arguments.append(action) }
        if let since = query.since { conditions.append("time >= ?"); arguments.append(since.timeIntervalSince1970) }
        if let until = query.until { conditions.append("time <= ?"); arguments.append(until.timeIntervalSince1970) }
        if let marker = query.page.marker {
            guard let seq = try Int64.fetchOne(db, sql: "SELECT seq FROM audit WHERE id = ?", arguments: [marker]) else {
                throw ViceError.invalidInput("marker '\(marker)' names no audit entry")
            }
            conditions.append("seq < ?")
            arguments.append(seq)
        }
        var sql = "SELECT * FROM audit"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY seq DESC"
        if let limit = query.page.limit { sql += " LIMIT \(limit + 1)" }
        return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
            AuditEntry(id: row["id"], time: Date(timeIntervalSince1970: row["time"]), userid: row["user_id"], username: row["username"],
                       action: row["action"], subject: row["subject"], outcome: row["outcome"], status: row["status"],
                       address: row["address"], detail: row["detail"])
        }
    }

    func insertAuditEntry(_ entry: AuditEntry) throws {
        try db.execute(sql: """
            INSERT INTO audit (id, time, user_id, username, action, subject, outcome, status, address, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [entry.id, (entry.time ?? Date()).timeIntervalSince1970, entry.userid, entry.username, entry.action,
                             entry.subject, entry.outcome, entry.status, entry.address, entry.detail])
    }

    // MARK: tokens

    private func token(from row: Row) -> StoredToken? {
        guard let scope = TokenScope(rawValue: row["scope"]) else { return nil }
        return StoredToken(id: row["id"], userID: row["user_id"], name: row["name"], scope: scope, secretHash: row["secret_hash"],
                           createdAt: Date(timeIntervalSince1970: row["created_at"]),
                           expiresAt: Date(timeIntervalSince1970: row["expires_at"]))
    }

    func token(id: String) throws -> StoredToken? {
        try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE id = ?", arguments: [id]).flatMap(token(from:))
    }

    func tokens(userID: String) throws -> [StoredToken] {
        try Row.fetchAll(db, sql: "SELECT * FROM tokens WHERE user_id = ? ORDER BY seq", arguments: [userID]).compactMap(token(from:))
    }

    func insertToken(_ token: StoredToken) throws {
        try db.execute(sql: """
            INSERT INTO tokens (id, user_id, name, scope, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [token.id, token.userID, token.name, token.scope.rawValue, token.secretHash,
                             token.createdAt.timeIntervalSince1970, token.expiresAt.timeIntervalSince1970])
    }

    func deleteToken(id: String) throws {
        try db.execute(sql: "DELETE FROM tokens WHERE id = ?", arguments: [id])
    }

    // MARK: environments

    private func environment(from row: Row) throws -> StoredEnvironment {
        StoredEnvironment(environment: try decode(Environment.self, row["doc"]), sealedCredentials: row["sealed_credentials"])
    }

    private func environmentColumns(_ stored: StoredEnvironment) throws -> [(any DatabaseValueConvertible)?] {
        let environment = stored.environment
        return [environment.managementlayer?.type?.rawValue, environment.managementlayer?.software?.lowercased(),
                environment.runtimetechnology?.type?.rawValue, environment.runtimetechnology?.software?.lowercased(),
                try encode(environment), stored.sealedCredentials,
                "," + (environment.members ?? []).map { $0.lowercased() }.joined(separator: ",") + ","]
    }

    func environment(id: String) throws -> StoredEnvironment? {
        try Row.fetchOne(db, sql: "SELECT * FROM environments WHERE id = ?", arguments: [id]).map(environment(from:))
    }

    func environments(owner: String?, filter: EnvironmentFilter) throws -> [StoredEnvironment] {
        var sql = "SELECT * FROM environments WHERE (? IS NULL OR userid = ?)"
        var arguments: [(any DatabaseValueConvertible)?] = [owner, owner]
        if let layer = filter.managementLayer {
            sql += " AND (ml_type = ? OR ml_software = ?)"
            arguments += [layer, layer]
        }
        if let technology = filter.runtimeTechnology {
            sql += " AND (rt_type = ? OR rt_software = ?)"
            arguments += [technology, technology]
        }
        if let viewer = filter.viewer {
            sql += " AND (userid = ? OR instr(members, ?) > 0)"
            arguments += [viewer.id, "," + viewer.username.lowercased() + ","]
        }
        sql += " ORDER BY seq"
        return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map(environment(from:))
    }

    func insertEnvironment(_ stored: StoredEnvironment) throws {
        try db.execute(sql: """
            INSERT INTO environments (id, userid, ml_type, ml_software, rt_type, rt_software, doc, sealed_credentials, members)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: StatementArguments([stored.id, stored.userid] + environmentColumns(stored)))
    }

    func updateEnvironment(_ stored: StoredEnvironment) throws {
        try db.execute(sql: """
            UPDATE environments SET ml_type = ?, ml_software = ?, rt_type = ?, rt_software = ?, doc = ?, sealed_credentials = ?,
                members = ?
            WHERE id = ?
            """, arguments: StatementArguments(environmentColumns(stored) + [stored.id]))
    }

    func deleteEnvironment(id: String) throws {
        try db.execute(sql: "DELETE FROM environments WHERE id = ?", arguments: [id])
    }

    // MARK: images

    private func image(from row: Row) throws -> StoredImage {
        StoredImage(image: try decode(Image.self, row["doc"]), originEnvironmentID: row["origin_environment_id"],
                    sealedOrigin: row["sealed_origin"])
    }

    private func imageColumns(_ stored: StoredImage) throws -> [(any DatabaseValueConvertible)?] {
        var image = stored.image
        image.originEnvironment = nil
        let members = "," + (image.members ?? []).map { $0.lowercased() }.joined(separator: ",") + ","
        return [image.title, image.contenttype?.rawValue, image.imagetype?.rawValue, image.status?.rawValue,
                image.checksum, stored.originEnvironmentID, try encode(image), stored.sealedOrigin,
                (image.visibility ?? .private).rawValue, members]
    }

    func image(id: String) throws -> StoredImage? {
        try Row.fetchOne(db, sql: "SELECT * FROM images WHERE id = ?", arguments: [id]).map(image(from:))
    }

    /// The `seq` of a page marker, which must be one of the owner's rows.
    private func markerSeq(table: String, owner: String?, marker: String?) throws -> Int64? {
        guard let marker else { return nil }
        guard let seq = try Int64.fetchOne(db, sql: "SELECT seq FROM \(table) WHERE id = ? AND (? IS NULL OR userid = ?)",
                                           arguments: [marker, owner, owner]) else {
            throw ViceError.invalidInput("marker '\(marker)' is not an item of this list")
        }
        return seq
    }

    func images(owner: String?, query: ImageQuery) throws -> [StoredImage] {
        var sql = "SELECT * FROM images WHERE (? IS NULL OR userid = ?)"
        var arguments: [(any DatabaseValueConvertible)?] = [owner, owner]
        if let seq = try markerSeq(table: "images", owner: owner, marker: query.page.marker) {
            sql += " AND seq > ?"
            arguments.append(seq)
        }
        if let text = query.text {
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            sql += " AND title LIKE ? ESCAPE '\\'"
            arguments.append("%\(escaped)%")
        }
        if let contenttype = query.contenttype {
            sql += " AND contenttype = ?"
            arguments.append(contenttype.rawValue)
        }
        if let imagetype = query.imagetype {
            sql += " AND imagetype = ?"
            arguments.append(imagetype.rawValue)
        }
        if let status = query.status {
            sql += " AND status = ?"
            arguments.append(status.rawValue)
        }
        if let visibility = query.visibility {
            sql += " AND visibility = ?"
            arguments.append(visibility.rawValue)
        }
        if let ownerID = query.ownerID {
            sql += " AND userid = ?"
            arguments.append(ownerID)
        }
        if let viewer = query.viewer {
            // Members are kept as ",name,name,": instr finds a whole name, with no wildcards.
            sql += " AND (userid = ? OR visibility = 'public' OR (visibility = 'shared' AND instr(members, ?) > 0))"
            arguments += [viewer.id, "," + viewer.username.lowercased() + ","]
        }
        sql += " ORDER BY seq"
        if let limit = query.page.limit {
            sql += " LIMIT ?"
            arguments.append(limit + 1)
        }
        return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map(image(from:))
    }

    func imageCount(checksum: String) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM images WHERE checksum = ?", arguments: [checksum]) ?? 0
    }

    func insertImage(_ stored: StoredImage) throws {
        try db.execute(sql: """
            INSERT INTO images (id, userid, title, contenttype, imagetype, status, checksum, origin_environment_id, doc, sealed_origin,
                                visibility, members)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: StatementArguments([stored.id, stored.userid] + imageColumns(stored)))
    }

    func updateImage(_ stored: StoredImage) throws {
        try db.execute(sql: """
            UPDATE images SET title = ?, contenttype = ?, imagetype = ?, status = ?, checksum = ?, origin_environment_id = ?,
                doc = ?, sealed_origin = ?, visibility = ?, members = ?
            WHERE id = ?
            """, arguments: StatementArguments(imageColumns(stored) + [stored.id]))
    }

    func deleteImage(id: String) throws {
        try db.execute(sql: "DELETE FROM images WHERE id = ?", arguments: [id])
    }

    // MARK: deployments

    func deployment(id: String) throws -> Deployment? {
        try Row.fetchOne(db, sql: "SELECT doc FROM deployments WHERE id = ?", arguments: [id]).map {
            try decode(Deployment.self, $0["doc"])
        }
    }

    func deployments(owner: String?, page: PageRequest) throws -> [Deployment] {
        var sql = "SELECT doc FROM deployments WHERE (? IS NULL OR userid = ?)"
        var arguments: [(any DatabaseValueConvertible)?] = [owner, owner]
        if let seq = try markerSeq(table: "deployments", owner: owner, marker: page.marker) {
            sql += " AND seq > ?"
            arguments.append(seq)
        }
        sql += " ORDER BY seq"
        if let limit = page.limit {
            sql += " LIMIT ?"
            arguments.append(limit + 1)
        }
        return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map {
            try decode(Deployment.self, $0["doc"])
        }
    }

    func insertDeployment(_ deployment: Deployment) throws {
        try db.execute(sql: """
            INSERT INTO deployments (id, userid, imageid, environment_id, status, doc) VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [deployment.id, deployment.userid, deployment.imageid, deployment.environmentId,
                             deployment.status?.rawValue, try encode(deployment)])
    }

    func updateDeployment(_ deployment: Deployment) throws {
        try db.execute(sql: "UPDATE deployments SET status = ?, doc = ? WHERE id = ?",
                       arguments: [deployment.status?.rawValue, try encode(deployment), deployment.id])
    }

    func deleteDeployment(id: String) throws {
        try db.execute(sql: "DELETE FROM deployments WHERE id = ?", arguments: [id])
    }

    // MARK: jobs

    static func job(from row: Row) throws -> Job {
        guard let kind = JobKind(rawValue: row["kind"]), let state = JobState(rawValue: row["state"]) else {
            throw ViceError(.internal, "job \(row["id"] as String? ?? "?") has an unknown kind or state")
        }
        func date(_ column: String) -> Date? { (row[column] as Double?).map(Date.init(timeIntervalSince1970:)) }
        var job = Job(id: row["id"], kind: kind, subjectID: row["subject_id"], state: state, attempts: row["attempts"],
                      maxAttempts: row["max_attempts"], runAt: Date(timeIntervalSince1970: row["run_at"]),
                      leaseOwner: row["lease_owner"], leaseExpires: date("lease_expires"),
                      lastError: row["last_error"], createdAt: Date(timeIntervalSince1970: row["created_at"]),
                      payload: row["payload"], ownerID: row["owner_id"])
        job.errorKind = (row["error_kind"] as String?).flatMap(JobErrorKind.init(rawValue:))
        job.phase = row["phase"]
        job.bytesDone = row["bytes_done"]
        job.bytesTotal = row["bytes_total"]
        job.startedAt = date("started_at")
        job.finishedAt = date("finished_at")
        job.updatedAt = date("updated_at") ?? job.createdAt
        job.cancelRequested = row["cancel_requested"] ?? false
        job.leaseToken = row["lease_token"] ?? 0
        return job
    }

    private static let unfinished = "state IN ('pending', 'running')"

    func jobs(subjectID: String) throws -> [Job] {
        try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE subject_id = ? AND \(Self.unfinished) ORDER BY seq", arguments: [subjectID])
            .map(Self.job(from:))
    }

    func jobs(kind: JobKind) throws -> [Job] {
        try Row.fetchAll(db, sql: "SELECT * FROM jobs WHERE kind = ? AND \(Self.unfinished) ORDER BY seq", arguments: [kind.rawValue])
            .map(Self.job(from:))
    }

    func pendingJobCount(queue: JobQueueName) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM jobs WHERE queue = ? AND state = 'pending'",
                         arguments: [queue.rawValue]) ?? 0
    }

    func jobCounts() throws -> [JobCount] {
        try Row.fetchAll(db, sql: "SELECT queue, kind, state, COUNT(*) AS n FROM jobs GROUP BY queue, kind, state").compactMap { row in
            guard let queue = JobQueueName(rawValue: row["queue"]), let kind = JobKind(rawValue: row["kind"]),
                  let state = JobState(rawValue: row["state"]) else { return nil }
            return JobCount(queue: queue, kind: kind, state: state, count: row["n"])
        }
    }

    func imageCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM images GROUP BY status") {
            counts[(row["status"] as String?) ?? "unknown", default: 0] += row["n"]
        }
        return counts
    }

    func job(id: String) throws -> Job? {
        try Row.fetchOne(db, sql: "SELECT * FROM jobs WHERE id = ?", arguments: [id]).map(Self.job(from:))
    }

    func jobs(_ query: JobQuery) throws -> [Job] {
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let owner = query.ownerID { conditions.append("owner_id = ?"); arguments.append(owner) }
        if !query.states.isEmpty {
            conditions.append("state IN (\(query.states.map { _ in "?" }.joined(separator: ", ")))")
            arguments += query.states.map(\.rawValue).sorted()
        }
        if let kind = query.kind { conditions.append("kind = ?"); arguments.append(kind.rawValue) }
        if let subject = query.subjectID { conditions.append("subject_id = ?"); arguments.append(subject) }
        if let marker = query.page.marker {
            guard let seq = try Int64.fetchOne(db, sql: "SELECT seq FROM jobs WHERE id = ? AND (? IS NULL OR owner_id = ?)",
                                               arguments: [marker, query.ownerID, query.ownerID]) else {
                throw ViceError.invalidInput("marker '\(marker)' is not an item of this list")
            }
            conditions.append("seq < ?")
            arguments.append(seq)
        }
        var sql = "SELECT * FROM jobs"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY seq DESC"
        if let limit = query.page.limit { sql += " LIMIT \(limit + 1)" }
        return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map(Self.job(from:))
    }

    func insertJob(_ job: Job) throws {
        try db.execute(sql: """
            INSERT INTO jobs (id, kind, queue, subject_id, state, attempts, max_attempts, run_at, lease_owner, lease_expires,
                last_error, created_at, payload, owner_id, error_kind, started_at, finished_at, updated_at, cancel_requested)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [job.id, job.kind.rawValue, job.queue.rawValue, job.subjectID, job.state.rawValue, job.attempts,
                             job.maxAttempts, job.runAt.timeIntervalSince1970, job.leaseOwner,
                             job.leaseExpires?.timeIntervalSince1970, job.lastError, job.createdAt.timeIntervalSince1970, job.payload,
                             job.ownerID, job.errorKind?.rawValue, job.startedAt?.timeIntervalSince1970,
                             job.finishedAt?.timeIntervalSince1970, (job.updatedAt ?? job.createdAt).timeIntervalSince1970,
                             job.cancelRequested])
    }

    func updateJob(_ job: Job) throws {
        try db.execute(sql: """
            UPDATE jobs SET state = ?, attempts = ?, max_attempts = ?, run_at = ?, lease_owner = ?, lease_expires = ?, last_error = ?,
                payload = ?, error_kind = ?, started_at = ?, finished_at = ?, updated_at = ?, cancel_requested = ?
            WHERE id = ?
            """, arguments: [job.state.rawValue, job.attempts, job.maxAttempts, job.runAt.timeIntervalSince1970,
                             job.leaseOwner, job.leaseExpires?.timeIntervalSince1970, job.lastError, job.payload,
                             job.errorKind?.rawValue, job.startedAt?.timeIntervalSince1970, job.finishedAt?.timeIntervalSince1970,
                             (job.updatedAt ?? Date()).timeIntervalSince1970, job.cancelRequested, job.id])
    }

    func updateJobProgress(id: String, phase: String?, bytesDone: Int64?, bytesTotal: Int64?, at: Date) throws {
        try db.execute(sql: "UPDATE jobs SET phase = ?, bytes_done = ?, bytes_total = ?, updated_at = ? WHERE id = ?",
                       arguments: [phase, bytesDone, bytesTotal, at.timeIntervalSince1970, id])
    }

    func deleteJob(id: String) throws {
        try db.execute(sql: "DELETE FROM jobs WHERE id = ?", arguments: [id])
    }

    func pruneJobs(finishedBefore date: Date) throws -> Int {
        try db.execute(sql: "DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ?", arguments: [date.timeIntervalSince1970])
        return db.changesCount
    }

    // MARK: events

    func events(after seq: Int64, ownerID: String?, limit: Int) throws -> [RegistryEvent] {
        // Two statements, so that a user's read walks the (owner_id, seq) index and skips the
        // other users' events instead of reading past them.
        let rows = if let ownerID {
            try Row.fetchAll(db, sql: "SELECT * FROM events WHERE owner_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                             arguments: [ownerID, seq, limit])
        } else {
            try Row.fetchAll(db, sql: "SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit])
        }
        return try rows.map { row in
            RegistryEvent(seq: row["seq"], time: Date(timeIntervalSince1970: row["time"]), kind: EventKind(rawValue: row["kind"]),
                          ownerID: row["owner_id"], subjectID: row["subject_id"],
                          data: try decode(JSONValue.self, row["data"]))
        }
    }

    func lastEventSeq() throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events") ?? 0
    }

    func appendEvent(_ event: RegistryEvent) throws -> Int64 {
        try db.execute(sql: "INSERT INTO events (time, kind, owner_id, subject_id, data) VALUES (?, ?, ?, ?, ?)",
                       arguments: [event.time.timeIntervalSince1970, event.kind.rawValue, event.ownerID, event.subjectID,
                                   try encode(event.data)])
        return db.lastInsertedRowID
    }

    func pruneEvents(before date: Date) throws -> Int {
        try db.execute(sql: "DELETE FROM events WHERE time < ?", arguments: [date.timeIntervalSince1970])
        return db.changesCount
    }

    // MARK: webhooks

    private func webhook(from row: Row) throws -> StoredWebhook {
        StoredWebhook(webhook: try decode(Webhook.self, row["doc"]), sealedSecret: row["sealed_secret"])
    }

    func webhook(id: String) throws -> StoredWebhook? {
        try Row.fetchOne(db, sql: "SELECT * FROM webhooks WHERE id = ?", arguments: [id]).map(webhook(from:))
    }

    func webhooks(owner: String?) throws -> [StoredWebhook] {
        try Row.fetchAll(db, sql: "SELECT * FROM webhooks WHERE (? IS NULL OR userid = ?) ORDER BY seq", arguments: [owner, owner])
            .map(webhook(from:))
    }

    func insertWebhook(_ webhook: StoredWebhook) throws {
        var doc = webhook.webhook
        doc.secret = nil
        try db.execute(sql: "INSERT INTO webhooks (id, userid, doc, sealed_secret) VALUES (?, ?, ?, ?)",
                       arguments: [webhook.id, webhook.userid, try encode(doc), webhook.sealedSecret])
    }

    func deleteWebhook(id: String) throws {
        try db.execute(sql: "DELETE FROM webhooks WHERE id = ?", arguments: [id])
    }
}
