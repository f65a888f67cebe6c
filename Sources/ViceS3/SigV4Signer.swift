package import Foundation
import Crypto

/// AWS Signature Version 4 for S3 (and stores that speak its API: SeaweedFS, Ceph RGW, MinIO).
/// Signs a request with the `Authorization` header; the payload is named by its SHA-256 (a blob's
/// own digest, since blobs are content-addressed) or `UNSIGNED-PAYLOAD`. Headers libcurl adds by
/// itself (User-Agent, Accept, Expect) are never signed, so what leaves is what was signed.
package struct SigV4Signer: Sendable {
    package var accessKeyID: String
    package var secretAccessKey: String
    package var region: String
    package var service: String

    package init(accessKeyID: String, secretAccessKey: String, region: String, service: String = "s3") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.region = region
        self.service = service
    }

    /// The payload hash of a request whose body is not hashed (over TLS only).
    package static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of nothing: the payload hash of a request without a body.
    package static let emptyPayload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// A request as the signer sees it, and what it decided.
    package struct Signed: Sendable {
        /// The headers to send: the given ones plus `x-amz-date`, `x-amz-content-sha256` and
        /// `Authorization` (not `host`: the HTTP client sends it from the URL).
        package var headers: [(name: String, value: String)]
        package var canonicalRequest: String
        package var stringToSign: String
    }

    /// Signs `method` on `url` (path and query already percent-encoded, as they will be sent).
    package func sign(method: String, url: String, headers: [(name: String, value: String)] = [], payloadHash: String,
                      date: Date = Date()) throws -> Signed {
        guard let components = URLComponents(string: url), let host = components.host, let scheme = components.scheme?.lowercased() else {
            throw SigV4Error("cannot sign '\(url)': not an absolute URL")
        }
        let amzDate = Self.timestamp(date)
        let day = String(amzDate.prefix(8))
        let defaultPort = scheme == "https" ? 443 : 80
        let hostValue = components.port.map { $0 == defaultPort ? host : "\(host):\($0)" } ?? host

        var signedHeaders: [String: String] = [:]
        for (name, value) in headers {
            let key = name.lowercased()
            guard !Self.unsigned.contains(key) else { continue }
            let folded = value.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            signedHeaders[key] = signedHeaders[key].map { "\($0),\(folded)" } ?? folded
        }
        signedHeaders["host"] = hostValue
        signedHeaders["x-amz-date"] = amzDate
        signedHeaders["x-amz-content-sha256"] = payloadHash
        let names = signedHeaders.keys.sorted()

        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        let canonicalRequest = [
            method.uppercased(),
            path,
            Self.canonicalQuery(components.percentEncodedQuery),
            names.map { "\($0):\(signedHeaders[$0]!)\n" }.joined(),
            names.joined(separator: ";"),
            payloadHash,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, Self.hex(SHA256.hash(data: Data(canonicalRequest.utf8)))]
            .joined(separator: "\n")

        var key = SymmetricKey(data: Data("AWS4\(secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Data(stringToSign.utf8), using: key))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(names.joined(separator: ";")), Signature=\(signature)"
        var sent = headers.filter { !["x-amz-date", "x-amz-content-sha256", "authorization", "host"].contains($0.name.lowercased()) }
        sent += [("x-amz-date", amzDate), ("x-amz-content-sha256", payloadHash), ("Authorization", authorization)]
        return Signed(headers: sent, canonicalRequest: canonicalRequest, stringToSign: stringToSign)
    }

    /// Headers that are not signed: the HTTP client or a proxy may add or change them.
    static let unsigned: Set<String> = ["user-agent", "accept", "expect", "connection", "transfer-encoding", "authorization",
                                        "x-amzn-trace-id", "keep-alive", "proxy-authorization", "te", "trailer", "upgrade"]

    /// The query as sent (already encoded), its parameters sorted by name, then value; a
    /// parameter without a value is `name=`.
    static func canonicalQuery(_ query: String?) -> String {
        guard let query, !query.isEmpty else { return "" }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
        .sorted { $0.0 == $1.0 ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    static func timestamp(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
    }

    static func hex<D: Sequence>(_ bytes: D) -> String where D.Element == UInt8 {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}

/// A request that cannot be signed.
package struct SigV4Error: Error, Sendable, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
