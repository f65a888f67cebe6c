import HTTPTypes
import Hummingbird
import ViceCore

/// The shapes most handlers share, so that each operation's handler says only what it does.
extension ViceAPI {
    /// Reads the JSON body as `Input` and answers, as JSON with `status`, what `body` makes of it
    /// for the caller.
    func decoding<Input: Decodable & Sendable, Output: Encodable & Sendable>(
        _ type: Input.Type, status: HTTPResponse.Status = .ok,
        _ body: @escaping @Sendable (Input, UserRecord) async throws -> Output
    ) -> Handler {
        { request, context in
            let input = try await JSONBody.decode(type, from: request)
            return try JSONBody.response(try await body(input, try context.requirePrincipal()), status: status)
        }
    }

    /// For one record named by the path parameter `parameter` (404 for what cannot be an id of a
    /// `kind`): answers, as JSON, what `body` makes of the id for the caller.
    func identified<Output: Encodable & Sendable>(
        by parameter: String, kind: String,
        _ body: @escaping @Sendable (String, UserRecord) async throws -> Output
    ) -> Handler {
        { _, context in
            let id = try Self.pathID(parameter, context, kind: kind)
            return try JSONBody.response(try await body(id, try context.requirePrincipal()))
        }
    }

    /// Like `identified`, for an operation that answers no record: `{"message": "<kind> <id> <done>"}`.
    func removing(by parameter: String, kind: String, done: String = "deleted",
                  _ body: @escaping @Sendable (String, UserRecord) async throws -> Void) -> Handler {
        identified(by: parameter, kind: kind) { id, caller in
            try await body(id, caller)
            return ["message": "\(kind) \(id) \(done)"]
        }
    }
}
