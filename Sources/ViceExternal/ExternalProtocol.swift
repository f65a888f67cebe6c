import Foundation
import ViceCore

/// The wire format of the external adapter protocol, `vice-adapter/1`: HTTP/1.1 and JSON over a
/// unix socket. docs/adapters.md is the reference for plugin authors.
enum ExternalProtocol {
    static let version = "vice-adapter/1"

    /// `GET /v1/adapter`: who the plugin is.
    struct Handshake: Codable, Sendable {
        var `protocol`: String
        var kind: String
        var version: String
        var summary: String?
        var capabilities: AdapterCapabilities
        var maintainers: [String]?
    }

    /// Body of `health`, `list`, `import` and `remove`.
    struct Call: Encodable {
        var environment: Environment
        var reference: String?
    }

    /// `Vice-Request` header of `deploy` (base64 of this JSON); the body is the image's bytes.
    struct DeployCall: Encodable {
        var environment: Environment
        var image: Image

        struct Image: Encodable {
            var id: String
            var title: String
            var contenttype: String
            var imagetype: String?
            var size: Int64
            var checksum: String
            var specifics: JSONValue?
            var deploymentId: String
            var deploymentTitle: String?
        }
    }

    struct ListAnswer: Decodable { var images: [RemoteImage] }
    struct Empty: Decodable {}

    /// A line of an `application/x-ndjson` answer that reports progress.
    struct ProgressLine: Decodable {
        struct Progress: Decodable {
            var phase: String?
            var bytesDone: Int64?
            var bytesTotal: Int64?
        }
        var progress: Progress?
    }
    struct DeployAnswer: Decodable { var reference: String }

    /// Any failed call: `{"error": {"code": "notFound", "message": "…", "transient": false}}`.
    struct ErrorAnswer: Decodable {
        struct Body: Decodable {
            var code: String
            var message: String
            var transient: Bool?
        }
        var error: Body
    }
}
