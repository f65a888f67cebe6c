package import Foundation
import Crypto
import ViceCore
package import ViceHTTP
import ViceSupport

/// Where the registry's objects are: an S3-compatible endpoint, a bucket, and a key prefix.
package struct S3Location: Sendable, Hashable {
    /// `https://s3.eu-central-1.amazonaws.com`, `http://127.0.0.1:8333`, …
    package var endpoint: String
    package var bucket: String
    package var region: String
    package var accessKeyID: String
    package var secretAccessKey: String
    /// `endpoint/bucket/key` (SeaweedFS, Ceph RGW, MinIO) rather than `bucket.endpoint/key`.
    package var pathStyle: Bool
    /// Prepended to every key (`vice/`), so that one bucket can hold other things too.
    package var prefix: String

    package init(endpoint: String, bucket: String, region: String = "us-east-1", accessKeyID: String, secretAccessKey: String,
                 pathStyle: Bool = true, prefix: String = "") {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.bucket = bucket
        self.region = region
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.pathStyle = pathStyle
        self.prefix = prefix
    }
}

/// What an S3 endpoint answered when it refused a request.
package struct S3Error: Error, Sendable, CustomStringConvertible {
    package var status: Int
    /// S3's error code (`NoSuchKey`, `PreconditionFailed`, `SignatureDoesNotMatch`, …).
    package var code: String
    package var message: String
    package var request: String

    package var description: String { "S3 answered \(status) \(code) to \(request)" + (message.isEmpty ? "" : ": \(message)") }
}

extension S3Error: RetryClassifying {
    package var isTransient: Bool { status >= 500 || status == 429 || code == "SlowDown" || code == "RequestTimeout" }
}

/// Signed requests to one bucket, on the project's libcurl client. Keys are given without the
/// location's prefix.
package struct S3Client: Sendable {
    package let location: S3Location
    private let signer: SigV4Signer
    private let http = HTTPClient()
    private let options: HTTPConnectionOptions

    package init(location: S3Location) {
        self.location = location
        signer = SigV4Signer(accessKeyID: location.accessKeyID, secretAccessKey: location.secretAccessKey, region: location.region)
        // The endpoint is the operator's, from the configuration: not subject to the egress policy of users' environments.
        options = HTTPConnectionOptions(connectTimeout: .seconds(10), idleTimeout: .seconds(120))
    }

    /// Percent-encodes a key as S3 signs it: everything but unreserved characters and `/`.
    static func encode(_ key: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/")
        return key.addingPercentEncoding(withAllowedCharacters: allowed) ?? key
    }

    static func encodeQueryValue(_ value: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }

    /// The URL of `key` (nil: the bucket) with `query`.
    func url(_ key: String?, query: [(String, String)] = []) -> String {
        let path = key.map { "/" + Self.encode(location.prefix + $0) } ?? "/"
        var url: String
        if location.pathStyle {
            url = location.endpoint + "/" + Self.encode(location.bucket) + (key == nil ? "" : path)
        } else {
            let scheme = location.endpoint.hasPrefix("https://") ? "https://" : "http://"
            url = scheme + location.bucket + "." + location.endpoint.dropFirst(scheme.count) + path
        }
        if !query.isEmpty {
            url += "?" + query.map { $0.1.isEmpty ? "\(Self.encodeQueryValue($0.0))=" : "\(Self.encodeQueryValue($0.0))=\(Self.encodeQueryValue($0.1))" }
                .joined(separator: "&")
        }
        return url
    }

    /// Sends a signed request; answers the response when its status is one of `accepted`,
    /// throws `S3Error` (with S3's code) otherwise.
    package func send(_ method: String, _ key: String?, query: [(String, String)] = [], headers: [(name: String, value: String)] = [],
                      body: HTTPRequestBody? = nil, payloadHash: String = SigV4Signer.emptyPayload,
                      accepted: Set<Int> = [200, 204, 206]) async throws -> HTTPClientResponse {
        let url = url(key, query: query)
        let signed = try signer.sign(method: method, url: url, headers: headers, payloadHash: payloadHash)
        var sent = signed.headers
        if let length = body?.length { sent.append(("Content-Length", String(length))) }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(HTTPClientRequest(method: method, url: url, headers: sent, body: body, options: options))
        } catch {
            throw ViceError(.unavailable, "the object store at \(location.endpoint) cannot be reached (\(method) \(key ?? "/")): \(error)",
                            cause: error)
        }
        guard accepted.contains(response.status) else {
            let text = method == "HEAD" ? "" : String(decoding: (try? await response.collect(upTo: 64 << 10)) ?? [], as: UTF8.self)
            throw S3Error(status: response.status, code: S3XML.first("Code", in: text) ?? "HTTP\(response.status)",
                          message: S3XML.first("Message", in: text) ?? "", request: "\(method) \(key ?? "/")")
        }
        return response
    }

    /// The body of a small answer (XML), as text.
    package func text(_ response: HTTPClientResponse) async throws -> String {
        String(decoding: try await response.collect(upTo: 16 << 20), as: UTF8.self)
    }

    // MARK: objects

    /// Puts `bytes` under `key`; `ifNoneMatch` refuses to replace an object (412 → false).
    @discardableResult
    package func put(_ key: String, bytes: [UInt8], contentType: String = "application/octet-stream",
                     ifNoneMatch: Bool = false) async throws -> Bool {
        var headers: [(name: String, value: String)] = [("Content-Type", contentType)]
        if ifNoneMatch { headers.append(("If-None-Match", "*")) }
        let response = try await send("PUT", key, headers: headers, body: HTTPRequestBody(bytes: bytes),
                                      payloadHash: SHA256.hash(data: bytes).hexString, accepted: [200, 412])
        _ = try? await response.collect(upTo: 1 << 20)
        return response.status == 200
    }

    /// The object's bytes (`range`: inclusive offsets) as they arrive.
    package func get(_ key: String, range: ClosedRange<Int64>? = nil) async throws -> HTTPClientResponse {
        var headers: [(name: String, value: String)] = []
        if let range { headers.append(("Range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        return try await send("GET", key, headers: headers)
    }

    /// The object's size, or nil when there is none.
    package func size(of key: String) async throws -> Int64? {
        let response = try await send("HEAD", key, accepted: [200, 404])
        guard response.status == 200 else { return nil }
        return response.header("Content-Length").flatMap { Int64($0) }
    }

    package func delete(_ key: String) async throws {
        let response = try await send("DELETE", key, accepted: [200, 204, 404])
        _ = try? await response.collect(upTo: 1 << 20)
    }

    /// The `x-amz-copy-source` of a key of this bucket.
    private func copySource(_ key: String) -> String {
        "/" + Self.encode(location.bucket) + "/" + Self.encode(location.prefix + key)
    }

    /// Copies `source` to `target` inside the store (no bytes through this process). With
    /// `ifNoneMatch` an existing target is kept: answers false then.
    package func copy(_ source: String, to target: String, ifNoneMatch: Bool) async throws -> Bool {
        var headers: [(name: String, value: String)] = [("x-amz-copy-source", copySource(source))]
        if ifNoneMatch { headers.append(("If-None-Match", "*")) }
        let response = try await send("PUT", target, headers: headers, accepted: [200, 412])
        let text = try await self.text(response)
        // S3 may answer 200 with an error document for a copy that failed late.
        if response.status == 200, let code = S3XML.first("Code", in: text) {
            throw S3Error(status: 200, code: code, message: S3XML.first("Message", in: text) ?? "", request: "COPY \(source)")
        }
        return response.status == 200
    }

    /// Keys under `prefix` (without the location's prefix), every page.
    package func list(prefix: String) async throws -> [String] {
        var keys: [String] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", location.prefix + prefix)]
            if let token { query.append(("continuation-token", token)) }
            let text = try await self.text(try await send("GET", nil, query: query.sorted { $0.0 < $1.0 }))
            keys += S3XML.all("Key", in: text).map { String($0.dropFirst(location.prefix.count)) }
            token = S3XML.first("IsTruncated", in: text) == "true" ? S3XML.first("NextContinuationToken", in: text) : nil
        } while token != nil
        return keys
    }

    // MARK: multipart uploads

    package func createMultipartUpload(_ key: String) async throws -> String {
        let text = try await self.text(try await send("POST", key, query: [("uploads", "")],
                                                     headers: [("Content-Type", "application/octet-stream")]))
        guard let id = S3XML.first("UploadId", in: text) else {
            throw S3Error(status: 200, code: "NoUploadId", message: "no UploadId in the answer", request: "POST \(key)?uploads")
        }
        return id
    }

    /// Uploads part `number` (from 1); answers its ETag.
    package func uploadPart(_ key: String, uploadID: String, number: Int, bytes: [UInt8]) async throws -> String {
        let response = try await send("PUT", key, query: [("partNumber", String(number)), ("uploadId", uploadID)],
                                      body: HTTPRequestBody(bytes: bytes), payloadHash: SHA256.hash(data: bytes).hexString)
        _ = try? await response.collect(upTo: 1 << 20)
        guard let etag = response.header("ETag") else {
            throw S3Error(status: response.status, code: "NoETag", message: "no ETag for part \(number)", request: "PUT \(key)")
        }
        return etag
    }

    package func completeMultipartUpload(_ key: String, uploadID: String, etags: [String]) async throws {
        let document = "<CompleteMultipartUpload>" + etags.enumerated().map {
            "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\(S3XML.escape($0.element))</ETag></Part>"
        }.joined() + "</CompleteMultipartUpload>"
        let bytes = Array(document.utf8)
        let text = try await self.text(try await send("POST", key, query: [("uploadId", uploadID)],
                                                     headers: [("Content-Type", "application/xml")],
                                                     body: HTTPRequestBody(bytes: bytes), payloadHash: SHA256.hash(data: bytes).hexString))
        if let code = S3XML.first("Code", in: text) {
            throw S3Error(status: 200, code: code, message: S3XML.first("Message", in: text) ?? "", request: "POST \(key)?uploadId")
        }
    }

    package func abortMultipartUpload(_ key: String, uploadID: String) async throws {
        let response = try await send("DELETE", key, query: [("uploadId", uploadID)], accepted: [200, 204, 404])
        _ = try? await response.collect(upTo: 1 << 20)
    }

    /// Multipart uploads begun under `prefix` and neither completed nor aborted: key, id and start.
    package func multipartUploads(prefix: String) async throws -> [(key: String, uploadID: String, initiated: Date)] {
        let text = try await self.text(try await send("GET", nil, query: [("prefix", location.prefix + prefix), ("uploads", "")]))
        return S3XML.all("Upload", in: text).map { upload in
            (String((S3XML.first("Key", in: upload) ?? "").dropFirst(location.prefix.count)), S3XML.first("UploadId", in: upload) ?? "",
             S3XML.date(S3XML.first("Initiated", in: upload)) ?? Date())
        }
    }

    /// Keys under `prefix` with the time each was last written.
    package func listWithDates(prefix: String) async throws -> [(key: String, modified: Date, size: Int64)] {
        var entries: [(key: String, modified: Date, size: Int64)] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", location.prefix + prefix)]
            if let token { query.append(("continuation-token", token)) }
            let text = try await self.text(try await send("GET", nil, query: query.sorted { $0.0 < $1.0 }))
            entries += S3XML.all("Contents", in: text).map { item in
                (String((S3XML.first("Key", in: item) ?? "").dropFirst(location.prefix.count)),
                 S3XML.date(S3XML.first("LastModified", in: item)) ?? Date(),
                 Int64(S3XML.first("Size", in: item) ?? "") ?? 0)
            }
            token = S3XML.first("IsTruncated", in: text) == "true" ? S3XML.first("NextContinuationToken", in: text) : nil
        } while token != nil
        return entries
    }

    /// Copies an object larger than one copy may be (5 GiB) in parts of 1 GiB.
    package func copyInParts(_ source: String, to target: String, size: Int64) async throws {
        let uploadID = try await createMultipartUpload(target)
        do {
            var etags: [String] = []
            let part: Int64 = 1 << 30
            var offset: Int64 = 0
            while offset < size {
                let last = min(size, offset + part) - 1
                let response = try await send("PUT", target, query: [("partNumber", String(etags.count + 1)), ("uploadId", uploadID)],
                                              headers: [("x-amz-copy-source", copySource(source)),
                                                        ("x-amz-copy-source-range", "bytes=\(offset)-\(last)")])
                let text = try await self.text(response)
                guard let etag = S3XML.first("ETag", in: text) else {
                    throw S3Error(status: response.status, code: S3XML.first("Code", in: text) ?? "NoETag", message: "a copied part has no ETag",
                                  request: "PUT \(target)")
                }
                etags.append(etag)
                offset = last + 1
            }
            try await completeMultipartUpload(target, uploadID: uploadID, etags: etags)
        } catch {
            try? await abortMultipartUpload(target, uploadID: uploadID)
            throw error
        }
    }

    /// Makes the bucket if it is not there (tests, and a first start against an empty store).
    package func createBucketIfMissing() async throws {
        let response = try await send("PUT", nil, accepted: [200, 409])
        _ = try? await response.collect(upTo: 1 << 20)
    }
}

/// Just enough XML for S3's answers: the text of elements by name, entities decoded.
enum S3XML {
    static func all(_ name: String, in text: String) -> [String] {
        var values: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "<\(name)>") {
            guard let close = rest.range(of: "</\(name)>", range: open.upperBound..<rest.endIndex) else { break }
            values.append(unescape(String(rest[open.upperBound..<close.lowerBound])))
            rest = rest[close.upperBound...]
        }
        return values
    }

    static func first(_ name: String, in text: String) -> String? { all(name, in: text).first }

    /// S3's timestamps: ISO 8601, with or without fractional seconds.
    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    static func unescape(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
