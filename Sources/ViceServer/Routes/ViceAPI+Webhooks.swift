import Hummingbird
import ViceCore

extension ViceAPI {
    var createWebhook: Handler {
        decoding(Webhook.self, status: .created) { try await registry.createWebhook($0, owner: $1) }
    }

    func findWebhooks(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        try JSONBody.response(try await registry.webhooks(owner: try context.requirePrincipal()))
    }

    var getWebhook: Handler {
        identified(by: "webhookId", kind: "webhook") { try await registry.webhook(id: $0, owner: $1) }
    }

    var deleteWebhook: Handler {
        removing(by: "webhookId", kind: "webhook") { try await registry.deleteWebhook(id: $0, owner: $1) }
    }

    /// `GET /v1/webhooks/{webhookId}/deliveries`: the delivery log (delivery jobs, newest first).
    func findWebhookDeliveries(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let id = try Self.pathID("webhookId", context, kind: "webhook")
        let page = try await registry.deliveries(ofWebhook: id, owner: try context.requirePrincipal(), page: try Query(request: request).page())
        return try JSONBody.response(page.items, headers: page.headers(for: request))
    }
}
