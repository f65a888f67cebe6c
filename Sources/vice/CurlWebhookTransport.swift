import ViceCore
import ViceHTTP

/// Webhook deliveries over libcurl: one POST, the egress policy checked against every address
/// the URL's host resolves to, bounded in time and in the answer read.
struct CurlWebhookTransport: WebhookTransport {
    let client = HTTPClient()

    func post(url: String, body: [UInt8], headers: [(String, String)], egress: EgressPolicy) async throws -> Int {
        try egress.check(url: url, what: "the webhook URL")
        let request = HTTPClientRequest(
            method: "POST", url: url, headers: headers.map { (name: $0.0, value: $0.1) }, body: HTTPRequestBody(bytes: body),
            options: HTTPConnectionOptions(connectTimeout: .seconds(10), idleTimeout: .seconds(30), egress: egress))
        let response = try await client.execute(request)
        // The answer is not used; a little of it is read so the connection ends cleanly.
        _ = try? await response.collect(upTo: 64 << 10)
        return response.status
    }
}
