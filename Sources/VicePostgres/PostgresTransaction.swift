import Foundation
import PostgresNIO
import ViceCore

/// `MetadataReader`/`MetadataWriter` over one PostgreSQL connection inside a transaction. The
/// statements are the SQLite store's, in PostgreSQL's dialect: case-insensitive matching with
/// `lower()`/`ILIKE`, `strpos` for member lists, booleans, and NOTIFYs that wake other nodes.
struct PostgresTransaction: MetadataWriter {
    let sql: SQLRunner
    /// Inside a write: job rows read are locked (`FOR UPDATE`) until the commit, so a claim on
    /// another node (which skips locked rows) cannot take a job between a worker's fencing check
    /// and its write.
    let writing: Bool

    private static let encoder = JSONEncoder()
    private static let decoder = JSONDecoder()

    private func encode<T: Encodable>(_ value: T) throws -> Data { try Self.encoder.encode(value) }
    private func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T { try Self.decoder.decode(type, from: data) }
    private static func date(_ seconds: Double) -> Date { Date(timeIntervalSince1970: seconds) }

    /// Members kept as ",name,name,": `strpos` finds a whole name, with no wildcards.
    private static func memberList(_ members: [String]?) -> String {
        "," + (members ?? []).map { $0.lowercased() }.joined(separator: ",") + ","
    }

    // MARK: users

    private func user(from row: PostgresRandomAccessRow) throws -> UserRecord {
        UserRecord(id: try row.get("id"), username: try row.get("username"), passwordHash: try row.get("password_hash"),
                   email: try row.get("email"), fullname: try row.get("fullname"), isAdmin: try row.get("is_admin"),
                   isReader: try row.get("is_reader"), isDisabled: try row.get("is_disabled"),
                   createdAt: Self.date(try row.get("created_at")), updatedAt: Self.date(try row.get("updated_at")))
    }

    func user(id: String) throws -> UserRecord? {
        try sql.row("SELECT * FROM users WHERE id = ?", [id]).map(user(from:))
    }

    func user(username: String) throws -> UserRecord? {
        try sql.row("SELECT * FROM users WHERE lower(username) = lower(?)", [username]).map(user(from:))
    }

    func users() throws -> [UserRecord] {
        try sql.rows("SELECT * FROM users ORDER BY seq").map(user(from:))
    }

    func userCount() throws -> Int {
        try sql.row("SELECT COUNT(*) AS n FROM users")?.get("n", as: Int.self) ?? 0
    }

    func insertUser(_ user: UserRecord) throws {
        try sql.run("""
            INSERT INTO users (id, username, password_hash, email, fullname, is_admin, is_reader, is_disabled, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [user.id, user.username, user.passwordHash, user.email, user.fullname, user.isAdmin, user.isReader, user.isDisabled,
                  user.createdAt.timeIntervalSince1970, user.updatedAt.timeIntervalSince1970])
    }

    func updateUser(_ user: UserRecord) throws {
        try sql.run("""
            UPDATE users SET username = ?, password_hash = ?, email = ?, fullname = ?, is_admin = ?, is_reader = ?, is_disabled = ?,
                updated_at = ?
            WHERE id = ?
            """, [user.username, user.passwordHash, user.email, user.fullname, user.isAdmin, user.isReader, user.isDisabled,
                  user.updatedAt.timeIntervalSince1970, user.id])
    }

    func deleteUser(id: String) throws {
        try sql.run("DELETE FROM users WHERE id = ?", [id])
    }

    // MARK: audit

    func auditEntries(_ query: AuditQuery) throws -> [AuditEntry] {
        var conditions: [String] = []
        var values: [SQLValue] = []
        if let username = query.username { conditions.append("lower(username) = lower(?)"); values.append(username) }
        if let action = query.action { conditions.append("action = ?"); values.append(action) }
        if let since = query.since { conditions.append("time >= ?"); values.append(since.timeIntervalSince1970) }
        if let until = query.until { conditions.append("time <= ?"); values.append(until.timeIntervalSince1970) }
        if let marker = query.page.marker {
            guard let seq = try sql.row("SELECT seq FROM audit WHERE id = ?", [marker])?.get("seq", as: Int64.self) else {
                throw ViceError.invalidInput("marker '\(marker)' names no audit entry")
            }
            conditions.append("seq < ?")
            values.append(seq)
        }
        var text = "SELECT * FROM audit"
        if !conditions.isEmpty { text += " WHERE " + conditions.joined(separator: " AND ") }
        text += " ORDER BY seq DESC"
        if let limit = query.page.limit { text += " LIMIT \(limit + 1)" }
        return try sql.rows(text, values).map { row in
            AuditEntry(id: try row.get("id"), time: Self.date(try row.get("time")), userid: try row.get("user_id"),
                       username: try row.get("username"), action: try row.get("action"), subject: try row.get("subject"),
                       outcome: try row.get("outcome"), status: try row.get("status"), address: try row.get("address"),
                       detail: try row.get("detail"))
        }
    }

    func insertAuditEntry(_ entry: AuditEntry) throws {
        try sql.run("""
            INSERT INTO audit (id, time, user_id, username, action, subject, outcome, status, address, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [entry.id, (entry.time ?? Date()).timeIntervalSince1970, entry.userid, entry.username, entry.action,
                  entry.subject, entry.outcome, entry.status, entry.address, entry.detail])
    }

    // MARK: tokens

    private func token(from row: PostgresRandomAccessRow) throws -> StoredToken? {
        guard let scope = TokenScope(rawValue: try row.get("scope")) else { return nil }
        return StoredToken(id: try row.get("id"), userID: try row.get("user_id"), name: try row.get("name"), scope: scope,
                           secretHash: try row.get("secret_hash"), createdAt: Self.date(try row.get("created_at")),
                           expiresAt: Self.date(try row.get("expires_at")))
    }

    func token(id: String) throws -> StoredToken? {
        try sql.row("SELECT * FROM tokens WHERE id = ?", [id]).flatMap(token(from:))
    }

    func tokens(userID: String) throws -> [StoredToken] {
        try sql.rows("SELECT * FROM tokens WHERE user_id = ? ORDER BY seq", [userID]).compactMap(token(from:))
    }

    func insertToken(_ token: StoredToken) throws {
        try sql.run("""
            INSERT INTO tokens (id, user_id, name, scope, secret_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            """, [token.id, token.userID, token.name, token.scope.rawValue, token.secretHash,
                  token.createdAt.timeIntervalSince1970, token.expiresAt.timeIntervalSince1970])
    }

    func deleteToken(id: String) throws {
        try sql.run("DELETE FROM tokens WHERE id = ?", [id])
    }

    // MARK: environments

    private func environment(from row: PostgresRandomAccessRow) throws -> StoredEnvironment {
        StoredEnvironment(environment: try decode(Environment.self, try row.get("doc")),
                          sealedCredentials: try row.get("sealed_credentials"))
    }

    private func environmentColumns(_ stored: StoredEnvironment) throws -> [SQLValue] {
        let environment = stored.environment
        return [environment.managementlayer?.type?.rawValue, environment.managementlayer?.software?.lowercased(),
                environment.runtimetechnology?.type?.rawValue, environment.runtimetechnology?.software?.lowercased(),
                try encode(environment), stored.sealedCredentials, Self.memberList(environment.members)]
    }

    func environment(id: String) throws -> StoredEnvironment? {
        try sql.row("SELECT * FROM environments WHERE id = ?", [id]).map(environment(from:))
    }

    func environments(owner: String?, filter: EnvironmentFilter) throws -> [StoredEnvironment] {
        var conditions = ["TRUE"]
        var values: [SQLValue] = []
        if let owner { conditions.append("userid = ?"); values.append(owner) }
        if let layer = filter.managementLayer {
            conditions.append("(ml_type = ? OR ml_software = ?)")
            values += [layer, layer]
        }
        if let technology = filter.runtimeTechnology {
            conditions.append("(rt_type = ? OR rt_software = ?)")
            values += [technology, technology]
        }
        if let viewer = filter.viewer {
            conditions.append("(userid = ? OR strpos(members, ?) > 0)")
            values += [viewer.id, "," + viewer.username.lowercased() + ","]
        }
        return try sql.rows("SELECT * FROM environments WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq", values)
            .map(environment(from:))
    }

    func insertEnvironment(_ stored: StoredEnvironment) throws {
        try sql.run("""
            INSERT INTO environments (id, userid, ml_type, ml_software, rt_type, rt_software, doc, sealed_credentials, members)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [stored.id, stored.userid] + environmentColumns(stored))
    }

    func updateEnvironment(_ stored: StoredEnvironment) throws {
        try sql.run("""
            UPDATE environments SET ml_type = ?, ml_software = ?, rt_type = ?, rt_software = ?, doc = ?, sealed_credentials = ?,
                members = ?
            WHERE id = ?
            """, environmentColumns(stored) + [stored.id])
    }

    func deleteEnvironment(id: String) throws {
        try sql.run("DELETE FROM environments WHERE id = ?", [id])
    }

    // MARK: images

    private func image(from row: PostgresRandomAccessRow) throws -> StoredImage {
        StoredImage(image: try decode(Image.self, try row.get("doc")), originEnvironmentID: try row.get("origin_environment_id"),
                    sealedOrigin: try row.get("sealed_origin"))
    }

    private func imageColumns(_ stored: StoredImage) throws -> [SQLValue] {
        var image = stored.image
        image.originEnvironment = nil
        return [image.title, image.contenttype?.rawValue, image.imagetype?.rawValue, image.status?.rawValue,
                image.checksum, stored.originEnvironmentID, try encode(image), stored.sealedOrigin,
                (image.visibility ?? .private).rawValue, Self.memberList(image.members)]
    }

    func image(id: String) throws -> StoredImage? {
        try sql.row("SELECT * FROM images WHERE id = ?", [id]).map(image(from:))
    }

    /// The `seq` of a page marker, which must be one of the owner's rows.
    private func markerSeq(table: String, owner: String?, marker: String?) throws -> Int64? {
        guard let marker else { return nil }
        let row = if let owner {
            try sql.row("SELECT seq FROM \(table) WHERE id = ? AND userid = ?", [marker, owner])
        } else {
            try sql.row("SELECT seq FROM \(table) WHERE id = ?", [marker])
        }
        guard let seq = try row?.get("seq", as: Int64.self) else {
            throw ViceError.invalidInput("marker '\(marker)' is not an item of this list")
        }
        return seq
    }

    func images(owner: String?, query: ImageQuery) throws -> [StoredImage] {
        var conditions = ["TRUE"]
        var values: [SQLValue] = []
        if let owner { conditions.append("userid = ?"); values.append(owner) }
        if let seq = try markerSeq(table: "images", owner: owner, marker: query.page.marker) {
            conditions.append("seq > ?")
            values.append(seq)
        }
        if let text = query.text {
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            conditions.append("title ILIKE ? ESCAPE '\\'")
            values.append("%\(escaped)%")
        }
        if let contenttype = query.contenttype { conditions.append("contenttype = ?"); values.append(contenttype.rawValue) }
        if let imagetype = query.imagetype { conditions.append("imagetype = ?"); values.append(imagetype.rawValue) }
        if let status = query.status { conditions.append("status = ?"); values.append(status.rawValue) }
        if let visibility = query.visibility { conditions.append("visibility = ?"); values.append(visibility.rawValue) }
        if let ownerID = query.ownerID { conditions.append("userid = ?"); values.append(ownerID) }
        if let viewer = query.viewer {
            conditions.append("(userid = ? OR visibility = 'public' OR (visibility = 'shared' AND strpos(members, ?) > 0))")
            values += [viewer.id, "," + viewer.username.lowercased() + ","]
        }
        var text = "SELECT * FROM images WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq"
        if let limit = query.page.limit { text += " LIMIT \(limit + 1)" }
        return try sql.rows(text, values).map(image(from:))
    }

    func imageCount(checksum: String) throws -> Int {
        try sql.row("SELECT COUNT(*) AS n FROM images WHERE checksum = ?", [checksum])?.get("n", as: Int.self) ?? 0
    }

    func insertImage(_ stored: StoredImage) throws {
        try sql.run("""
            INSERT INTO images (id, userid, title, contenttype, imagetype, status, checksum, origin_environment_id, doc, sealed_origin,
                                visibility, members)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [stored.id, stored.userid] + imageColumns(stored))
    }

    func updateImage(_ stored: StoredImage) throws {
        try sql.run("""
            UPDATE images SET title = ?, contenttype = ?, imagetype = ?, status = ?, checksum = ?, origin_environment_id = ?,
                doc = ?, sealed_origin = ?, visibility = ?, members = ?
            WHERE id = ?
            """, imageColumns(stored) + [stored.id])
    }

    func deleteImage(id: String) throws {
        try sql.run("DELETE FROM images WHERE id = ?", [id])
    }

    // MARK: deployments

    func deployment(id: String) throws -> Deployment? {
        try sql.row("SELECT doc FROM deployments WHERE id = ?", [id]).map { try decode(Deployment.self, try $0.get("doc")) }
    }

    func deployments(owner: String?, page: PageRequest) throws -> [Deployment] {
        var conditions = ["TRUE"]
        var values: [SQLValue] = []
        if let owner { conditions.append("userid = ?"); values.append(owner) }
        if let seq = try markerSeq(table: "deployments", owner: owner, marker: page.marker) {
            conditions.append("seq > ?")
            values.append(seq)
        }
        var text = "SELECT doc FROM deployments WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq"
        if let limit = page.limit { text += " LIMIT \(limit + 1)" }
        return try sql.rows(text, values).map { try decode(Deployment.self, try $0.get("doc")) }
    }

    func insertDeployment(_ deployment: Deployment) throws {
        try sql.run("INSERT INTO deployments (id, userid, imageid, environment_id, status, doc) VALUES (?, ?, ?, ?, ?, ?)",
                    [deployment.id, deployment.userid, deployment.imageid, deployment.environmentId, deployment.status?.rawValue,
                     try encode(deployment)])
    }

    func updateDeployment(_ deployment: Deployment) throws {
        try sql.run("UPDATE deployments SET status = ?, doc = ? WHERE id = ?",
                    [deployment.status?.rawValue, try encode(deployment), deployment.id])
    }

    func deleteDeployment(id: String) throws {
        try sql.run("DELETE FROM deployments WHERE id = ?", [id])
    }

    // MARK: jobs

    static func job(from row: PostgresRandomAccessRow) throws -> Job {
        let id: String = try row.get("id")
        guard let kind = JobKind(rawValue: try row.get("kind")), let state = JobState(rawValue: try row.get("state")) else {
            throw ViceError(.internal, "job \(id) has an unknown kind or state")
        }
        func date(_ column: String) throws -> Date? { try row.get(column, as: Double?.self).map(Self.date) }
        var job = Job(id: id, kind: kind, subjectID: try row.get("subject_id"), state: state, attempts: try row.get("attempts"),
                      maxAttempts: try row.get("max_attempts"), runAt: Self.date(try row.get("run_at")),
                      leaseOwner: try row.get("lease_owner"), leaseExpires: try date("lease_expires"),
                      lastError: try row.get("last_error"), createdAt: Self.date(try row.get("created_at")),
                      payload: try row.get("payload"), ownerID: try row.get("owner_id"))
        job.errorKind = try row.get("error_kind", as: String?.self).flatMap(JobErrorKind.init(rawValue:))
        job.phase = try row.get("phase")
        job.bytesDone = try row.get("bytes_done")
        job.bytesTotal = try row.get("bytes_total")
        job.startedAt = try date("started_at")
        job.finishedAt = try date("finished_at")
        job.updatedAt = try date("updated_at") ?? job.createdAt
        job.cancelRequested = try row.get("cancel_requested")
        job.leaseToken = try row.get("lease_token")
        return job
    }

    private static let unfinished = "state IN ('pending', 'running')"
    private var lock: String { writing ? " FOR UPDATE" : "" }

    func jobs(subjectID: String) throws -> [Job] {
        try sql.rows("SELECT * FROM jobs WHERE subject_id = ? AND \(Self.unfinished) ORDER BY seq\(lock)", [subjectID])
            .map(Self.job(from:))
    }

    func jobs(kind: JobKind) throws -> [Job] {
        try sql.rows("SELECT * FROM jobs WHERE kind = ? AND \(Self.unfinished) ORDER BY seq\(lock)", [kind.rawValue])
            .map(Self.job(from:))
    }

    func pendingJobCount(queue: JobQueueName) throws -> Int {
        try sql.row("SELECT COUNT(*) AS n FROM jobs WHERE queue = ? AND state = 'pending'", [queue.rawValue])?
            .get("n", as: Int.self) ?? 0
    }

    func jobCounts() throws -> [JobCount] {
        try sql.rows("SELECT queue, kind, state, COUNT(*) AS n FROM jobs GROUP BY queue, kind, state").compactMap { row in
            guard let queue = JobQueueName(rawValue: try row.get("queue")), let kind = JobKind(rawValue: try row.get("kind")),
                  let state = JobState(rawValue: try row.get("state")) else { return nil }
            return JobCount(queue: queue, kind: kind, state: state, count: try row.get("n", as: Int.self))
        }
    }

    func imageCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try sql.rows("SELECT status, COUNT(*) AS n FROM images GROUP BY status") {
            counts[try row.get("status", as: String?.self) ?? "unknown", default: 0] += try row.get("n", as: Int.self)
        }
        return counts
    }

    func job(id: String) throws -> Job? {
        try sql.row("SELECT * FROM jobs WHERE id = ?\(lock)", [id]).map(Self.job(from:))
    }

    func jobs(_ query: JobQuery) throws -> [Job] {
        var conditions = ["TRUE"]
        var values: [SQLValue] = []
        if let owner = query.ownerID { conditions.append("owner_id = ?"); values.append(owner) }
        if !query.states.isEmpty {
            conditions.append("state IN (\(query.states.map { _ in "?" }.joined(separator: ", ")))")
            values += query.states.map(\.rawValue).sorted()
        }
        if let kind = query.kind { conditions.append("kind = ?"); values.append(kind.rawValue) }
        if let subject = query.subjectID { conditions.append("subject_id = ?"); values.append(subject) }
        if let marker = query.page.marker {
            let row = if let owner = query.ownerID {
                try sql.row("SELECT seq FROM jobs WHERE id = ? AND owner_id = ?", [marker, owner])
            } else {
                try sql.row("SELECT seq FROM jobs WHERE id = ?", [marker])
            }
            guard let seq = try row?.get("seq", as: Int64.self) else {
                throw ViceError.invalidInput("marker '\(marker)' is not an item of this list")
            }
            conditions.append("seq < ?")
            values.append(seq)
        }
        var text = "SELECT * FROM jobs WHERE \(conditions.joined(separator: " AND ")) ORDER BY seq DESC"
        if let limit = query.page.limit { text += " LIMIT \(limit + 1)" }
        return try sql.rows(text, values).map(Self.job(from:))
    }

    /// Wakes idle workers of `queue` on every node once this transaction commits.
    private func announce(_ job: Job) throws {
        if job.state == .pending { try sql.run("SELECT pg_notify(?, ?)", [PostgresStore.jobChannel, job.queue.rawValue]) }
    }

    func insertJob(_ job: Job) throws {
        try sql.run("""
            INSERT INTO jobs (id, kind, queue, subject_id, state, attempts, max_attempts, run_at, lease_owner, lease_expires,
                last_error, created_at, payload, owner_id, error_kind, started_at, finished_at, updated_at, cancel_requested)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [job.id, job.kind.rawValue, job.queue.rawValue, job.subjectID, job.state.rawValue, job.attempts,
                  job.maxAttempts, job.runAt.timeIntervalSince1970, job.leaseOwner, job.leaseExpires?.timeIntervalSince1970,
                  job.lastError, job.createdAt.timeIntervalSince1970, job.payload, job.ownerID, job.errorKind?.rawValue,
                  job.startedAt?.timeIntervalSince1970, job.finishedAt?.timeIntervalSince1970,
                  (job.updatedAt ?? job.createdAt).timeIntervalSince1970, job.cancelRequested])
        try announce(job)
    }

    func updateJob(_ job: Job) throws {
        try sql.run("""
            UPDATE jobs SET state = ?, attempts = ?, max_attempts = ?, run_at = ?, lease_owner = ?, lease_expires = ?, last_error = ?,
                payload = ?, error_kind = ?, started_at = ?, finished_at = ?, updated_at = ?, cancel_requested = ?
            WHERE id = ?
            """, [job.state.rawValue, job.attempts, job.maxAttempts, job.runAt.timeIntervalSince1970, job.leaseOwner,
                  job.leaseExpires?.timeIntervalSince1970, job.lastError, job.payload, job.errorKind?.rawValue,
                  job.startedAt?.timeIntervalSince1970, job.finishedAt?.timeIntervalSince1970,
                  (job.updatedAt ?? Date()).timeIntervalSince1970, job.cancelRequested, job.id])
        try announce(job)
    }

    func updateJobProgress(id: String, phase: String?, bytesDone: Int64?, bytesTotal: Int64?, at: Date) throws {
        try sql.run("UPDATE jobs SET phase = ?, bytes_done = ?, bytes_total = ?, updated_at = ? WHERE id = ?",
                    [phase, bytesDone, bytesTotal, at.timeIntervalSince1970, id])
    }

    func deleteJob(id: String) throws {
        try sql.run("DELETE FROM jobs WHERE id = ?", [id])
    }

    func pruneJobs(finishedBefore date: Date) throws -> Int {
        try sql.changes("DELETE FROM jobs WHERE finished_at IS NOT NULL AND finished_at < ?", [date.timeIntervalSince1970])
    }

    // MARK: events

    func events(after seq: Int64, ownerID: String?, limit: Int) throws -> [RegistryEvent] {
        let rows = if let ownerID {
            try sql.rows("SELECT * FROM events WHERE owner_id = ? AND seq > ? ORDER BY seq LIMIT ?", [ownerID, seq, limit])
        } else {
            try sql.rows("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", [seq, limit])
        }
        return try rows.map { row in
            RegistryEvent(seq: try row.get("seq"), time: Self.date(try row.get("time")), kind: EventKind(rawValue: try row.get("kind")),
                          ownerID: try row.get("owner_id"), subjectID: try row.get("subject_id"),
                          data: try decode(JSONValue.self, try row.get("data")))
        }
    }

    func lastEventSeq() throws -> Int64 {
        try sql.row("SELECT MAX(seq) AS seq FROM events")?.get("seq", as: Int64?.self) ?? 0
    }

    func appendEvent(_ event: RegistryEvent) throws -> Int64 {
        let row = try sql.row("INSERT INTO events (time, kind, owner_id, subject_id, data) VALUES (?, ?, ?, ?, ?) RETURNING seq",
                              [event.time.timeIntervalSince1970, event.kind.rawValue, event.ownerID, event.subjectID,
                               try encode(event.data)])
        // Event streams on other nodes look for new events at once.
        try sql.run("SELECT pg_notify(?, '')", [PostgresStore.eventChannel])
        guard let seq = try row?.get("seq", as: Int64.self) else { throw ViceError(.internal, "an event got no number") }
        return seq
    }

    func pruneEvents(before date: Date) throws -> Int {
        try sql.changes("DELETE FROM events WHERE time < ?", [date.timeIntervalSince1970])
    }

    // MARK: webhooks

    private func webhook(from row: PostgresRandomAccessRow) throws -> StoredWebhook {
        StoredWebhook(webhook: try decode(Webhook.self, try row.get("doc")), sealedSecret: try row.get("sealed_secret"))
    }

    func webhook(id: String) throws -> StoredWebhook? {
        try sql.row("SELECT * FROM webhooks WHERE id = ?", [id]).map(webhook(from:))
    }

    func webhooks(owner: String?) throws -> [StoredWebhook] {
        let rows = if let owner {
            try sql.rows("SELECT * FROM webhooks WHERE userid = ? ORDER BY seq", [owner])
        } else {
            try sql.rows("SELECT * FROM webhooks ORDER BY seq")
        }
        return try rows.map(webhook(from:))
    }

    func insertWebhook(_ webhook: StoredWebhook) throws {
        var doc = webhook.webhook
        doc.secret = nil
        try sql.run("INSERT INTO webhooks (id, userid, doc, sealed_secret) VALUES (?, ?, ?, ?)",
                    [webhook.id, webhook.userid, try encode(doc), webhook.sealedSecret])
    }

    func deleteWebhook(id: String) throws {
        try sql.run("DELETE FROM webhooks WHERE id = ?", [id])
    }
}
