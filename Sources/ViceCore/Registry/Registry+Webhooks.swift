import Crypto
import Foundation

/// How a webhook delivery leaves the registry: one POST, within the owner's egress policy.
package protocol WebhookTransport: Sendable {
    /// POSTs `body` to `url` with `headers`; answers the HTTP status. Throws when no answer came
    /// (refused by the egress policy, unreachable, timed out).
    func post(url: String, body: [UInt8], headers: [(String, String)], egress: EgressPolicy) async throws -> Int
}

/// What a delivery job sends: one event.
struct DeliveryParameters: JobParameters {
    static let kind = JobKind.deliverWebhook
    /// Tries per delivery (backing off between them) before it is given up.
    static let attempts = 8
    var seq: Int64
    var kind: String
    var subjectID: String
    var time: Date
    var data: JSONValue

    init(_ event: RegistryEvent) {
        seq = event.seq
        kind = event.kind.rawValue
        subjectID = event.subjectID
        time = event.time
        data = event.data
    }

    /// The JSON body: `{"id", "type", "time", "subject", "data"}`.
    var body: [UInt8] {
        let object: JSONValue = .object([
            "id": .string(String(seq)), "type": .string(kind), "time": .string(time.formatted(.iso8601)),
            "subject": .string(subjectID), "data": data,
        ])
        return Array((try? APIJSON.encoder.encode(object)) ?? Data())
    }
}

/// A webhook answered a delivery with an error status.
struct WebhookRefused: Error, Sendable, CustomStringConvertible, RetryClassifying {
    var status: Int
    var description: String { "the webhook answered HTTP \(status)" }
    /// A 4xx other than 408 and 429 will not change by sending the same event again.
    var isTransient: Bool { status >= 500 || status == 408 || status == 429 }
}

/// Webhooks: the owner's events POSTed, signed, to a URL they chose. Deliveries are jobs (kind
/// `deliver-webhook`), so they are durable, retried with backoff, and listed as the delivery log.
extension Registry {
    /// The header carrying `sha256=<hex HMAC-SHA256 of the body, keyed with the secret>`.
    package static let signatureHeader = "X-Vice-Signature"

    package func createWebhook(_ input: Webhook, owner: UserRecord) async throws -> Webhook {
        guard let url = input.url?.trimmingCharacters(in: .whitespaces), url.count <= 2048 else {
            throw ViceError.invalidInput("url is required: an http:// or https:// URL of at most 2048 characters")
        }
        guard let secret = input.secret, (16...256).contains(secret.count) else {
            throw ViceError.invalidInput("secret is required: 16 to 256 characters, the key of the X-Vice-Signature HMAC")
        }
        let unknown = (input.events ?? []).filter { EventKind.allCases.map(\.rawValue).contains($0) == false }
        guard unknown.isEmpty else {
            throw ViceError.invalidInput("unknown event kinds \(unknown); known: \(EventKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        try Validate.title(input.description, field: "description")
        // Refused on its face now (a link-local address, loopback for a user); the addresses the
        // name resolves to are checked again at each delivery.
        do {
            try options.environmentPolicy.egress(trusted: owner.isAdmin).check(url: url, what: "url")
        } catch let refusal as EgressRefusal {
            throw ViceError.invalidInput("\(refusal)")
        }
        let sealed = try cipher.seal(Data(secret.utf8))
        let count = try await store.read { try $0.webhooks(owner: owner.id).count }
        guard count < 32 else { throw ViceError.invalidInput("a user has at most 32 webhooks") }
        return try await withFreshID { id in
            let webhook = Webhook(id: id, userid: owner.id, url: url, events: input.events ?? [], description: input.description,
                                  createdAt: Date())
            try await self.store.write { try $0.insertWebhook(StoredWebhook(webhook: webhook, sealedSecret: sealed)) }
            return webhook
        }
    }

    package func webhooks(owner: UserRecord) async throws -> [Webhook] {
        try await store.read { try $0.webhooks(owner: owner.listedOwner) }.map(\.webhook)
    }

    package func webhook(id: String, owner: UserRecord) async throws -> Webhook {
        try await ownedWebhook(id: id, owner: owner).webhook
    }

    /// Deletes the webhook; its queued deliveries end (their jobs find it gone).
    package func deleteWebhook(id: String, owner: UserRecord) async throws {
        _ = try await ownedWebhook(id: id, owner: owner)
        try await store.write { try $0.deleteWebhook(id: id) }
    }

    /// The delivery log: the webhook's delivery jobs, newest first.
    package func deliveries(ofWebhook id: String, owner: UserRecord, page: PageRequest) async throws -> Page<JobInfo> {
        _ = try await ownedWebhook(id: id, owner: owner)
        return try await jobs(JobQuery(kind: .deliverWebhook, subjectID: id, page: page), owner: owner)
    }

    private func ownedWebhook(id: String, owner: UserRecord) async throws -> StoredWebhook {
        guard let stored = try await store.read({ try $0.webhook(id: id) }), owner.mayManage(stored.userid) else {
            throw ViceError.notFound("webhook \(id) not found")
        }
        return stored
    }

    /// `sha256=<hex>` of `body` keyed with `secret`.
    package static func signature(of body: [UInt8], secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return "sha256=" + Data(mac).map { String(format: "%02x", $0) }.joined()
    }

    // MARK: the delivery job

    func performDelivery(_ job: Job) async throws {
        guard let stored = try await store.read({ try $0.webhook(id: job.subjectID) }) else { return try await dropJob(job) }
        guard let transport = webhookTransport else { throw ViceError(.internal, "this registry has no HTTP client for webhooks") }
        let parameters = try job.parameters(DeliveryParameters.self)
        let secret = String(decoding: try cipher.open(stored.sealedSecret), as: UTF8.self)
        let body = parameters.body
        // A disabled owner's events stop leaving; the delivery ends.
        guard let owner = try await user(id: stored.userid), !owner.isDisabled else { return try await dropJob(job) }
        let status = try await transport.post(url: stored.webhook.url ?? "", body: body, headers: [
            ("Content-Type", "application/json"),
            (Self.signatureHeader, Self.signature(of: body, secret: secret)),
            ("X-Vice-Event", parameters.kind),
            ("X-Vice-Delivery", job.id),
        ], egress: options.environmentPolicy.egress(trusted: owner.isAdmin))
        guard (200..<300).contains(status) else { throw WebhookRefused(status: status) }
        let store = self.store
        try await recording { try await store.write { try self.succeed(job, in: $0) } }
    }
}
