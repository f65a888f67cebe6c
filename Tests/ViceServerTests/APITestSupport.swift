import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import ViceCore
import ViceServer
import ViceTestSupport

/// One HTTP exchange with the API under test.
struct Exchange {
    var status: Int
    var headers: HTTPFields
    var body: Data

    var json: Any? { try? JSONSerialization.jsonObject(with: body) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    var text: String { String(decoding: body, as: UTF8.self) }
    func string(_ key: String) -> String? { object[key] as? String }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: body)
    }
}

/// Talks to the router the way a REST caller would, remembering every response body (to check
/// that no secret ever appears in one).
final class APIClient: @unchecked Sendable {
    let client: any TestClientProtocol
    private let lock = NSLock()
    private var bodies: [String] = []

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    var allResponseBodies: [String] { lock.withLock { bodies } }

    @discardableResult
    func send(_ method: HTTPRequest.Method, _ uri: String, as user: String? = nil, password: String? = nil,
              json: String? = nil, headers extra: HTTPFields = [:], body: [UInt8]? = nil) async throws -> Exchange {
        var headers = extra
        if let user {
            let secret = password ?? RegistryFixture.password(of: user)
            headers[.authorization] = "Basic " + Data("\(user):\(secret)".utf8).base64EncodedString()
        }
        if json != nil { headers[.contentType] = "application/json" }
        let response = try await client.execute(uri: uri, method: method, headers: headers,
                                                body: body.map { ByteBuffer(bytes: $0) } ?? json.map { ByteBuffer(string: $0) })
        let exchange = Exchange(status: Int(response.status.code), headers: response.headers,
                                body: Data(response.body.readableBytesView))
        if exchange.headers[.contentType]?.hasPrefix("application/json") == true {
            lock.withLock { bodies.append(exchange.text) }
        }
        return exchange
    }
}

/// A registry fixture behind the HTTP API, with users alice (admin), bob and carol.
struct APIHarness {
    let fixture: RegistryFixture
    let alice: UserRecord
    let bob: UserRecord

    static func make(openRegistration: Bool = false) async throws -> APIHarness {
        let fixture = try await RegistryFixture(openRegistration: openRegistration)
        let alice = try await fixture.user("alice", admin: true)
        let bob = try await fixture.user("bob")
        return APIHarness(fixture: fixture, alice: alice, bob: bob)
    }

    /// Runs `test` against the API: in process (Hummingbird's `.router`) by default, or through a
    /// real socket on loopback (`.live`) when `VICE_API_TRANSPORT=live` — `script/test` runs the API
    /// suites both ways.
    func run(maxUploadBytes: Int64 = 1 << 40, _ test: @escaping @Sendable (APIClient) async throws -> Void) async throws {
        let app = Application(router: ViceAPI(registry: fixture.registry, maxUploadBytes: maxUploadBytes).makeRouter())
        try await app.test(Self.transport) { client in
            try await test(APIClient(client))
        }
    }

    static var transport: TestingSetup {
        ProcessInfo.processInfo.environment["VICE_API_TRANSPORT"] == "live" ? .live : .router
    }
}

/// Checks an error response: status, a JSON body with a message, and the error kind.
func expectError(_ exchange: Exchange, _ status: Int, kind: String? = nil, mentioning text: String? = nil,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(exchange.status == status, "\(exchange.text)", sourceLocation: sourceLocation)
    #expect(exchange.object["code"] as? Int == status, sourceLocation: sourceLocation)
    #expect((exchange.string("message") ?? "").isEmpty == false, "error body has a message", sourceLocation: sourceLocation)
    if let kind { #expect(exchange.string("error") == kind, sourceLocation: sourceLocation) }
    if let text {
        #expect(exchange.string("message")?.contains(text) == true, "'\(exchange.string("message") ?? "")' mentions '\(text)'",
                sourceLocation: sourceLocation)
    }
}

/// The seed's example bodies, verbatim.
enum SeedExamples {
    static let environment = """
        {
          "credentials" : { "password" : "aeiou", "location" : "aeiou", "username" : "aeiou", "specifics" : "{}" },
          "managementlayer" : { "software" : "aeiou", "type" : "basic", "version" : "aeiou" },
          "id" : "aeiou", "title" : "aeiou", "userid" : "aeiou",
          "runtimetechnology" : { "software" : "aeiou", "type" : "virtualmachine", "version" : "aeiou" }
        }
        """
    static let image = """
        {
          "imagetype" : "implicit", "imported" : true,
          "originEnvironment" : {
            "credentials" : { "password" : "aeiou", "location" : "aeiou", "username" : "aeiou", "specifics" : "{}" },
            "managementlayer" : { "software" : "aeiou", "type" : "basic", "version" : "aeiou" },
            "id" : "aeiou", "title" : "aeiou", "userid" : "aeiou",
            "runtimetechnology" : { "software" : "aeiou", "type" : "virtualmachine", "version" : "aeiou" }
          },
          "id" : "aeiou", "title" : "aeiou", "userid" : "aeiou", "contenttype" : "disk-raw",
          "environmentReference" : "aeiou", "specifics" : "{}"
        }
        """
    static let deployment = """
        { "imageid" : "aeiou", "environmentId" : "aeiou", "id" : "aeiou", "title" : "aeiou", "userid" : "aeiou",
          "environmentReference" : "aeiou" }
        """
    static let user = """
        { "password" : "aeiou-long-enough", "id" : "aeiou", "fullname" : "aeiou", "email" : "aeiou@example.org", "username" : "aeiou" }
        """
}

/// JSON for an in-memory environment.
func memoryEnvironmentJSON(cloud: String, title: String = "memory", password: String = "cloud-secret",
                           layerType: String = "cloudcomputing", technology: String = "virtualmachine") -> String {
    """
    {"title": "\(title)", "credentials": {"location": "\(cloud)", "username": "tester", "password": "\(password)"},
     "managementlayer": {"type": "\(layerType)", "software": "memory"},
     "runtimetechnology": {"type": "\(technology)", "software": "kvm"}}
    """
}
