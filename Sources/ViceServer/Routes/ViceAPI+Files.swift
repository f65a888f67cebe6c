import CoreMetrics
import Foundation
import HTTPTypes
import Hummingbird
import ViceCore

extension ViceAPI {
    /// `POST /v1/image/{id}/file`: the spec's `multipart/form-data` field `upfile`, or the raw
    /// bytes as the body. Streamed to a staging file while counting and hashing; nothing of the
    /// image is ever held in memory. A store job then inspects and commits the bytes.
    func uploadImage(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let id = try Self.pathID("imageId", context, kind: "image")
        let owner = try context.requirePrincipal()
        try MediaType.require(request, oneOf: ["application/octet-stream", "multipart/form-data"], allowsNone: true,
                              what: "an image file")
        let declaredLength = request.headers[.contentLength].flatMap { Int64($0) }
        let declared = try DeclaredDigests(request.headers)
        let boundary = try MultipartFile<RequestBody>.boundary(of: request.headers[.contentType] ?? "application/octet-stream")
        if let declaredLength, declaredLength > maxUploadBytes + (boundary == nil ? 0 : 64 * 1024) {
            throw ViceError(.payloadTooLarge, "the upload is larger than the registry's limit of \(maxUploadBytes) bytes")
        }
        try uploads.admit(owner.id)
        defer { uploads.release(owner.id) }
        let upload = try await registry.beginUpload(imageID: id, owner: owner)
        do {
            // The whole message as received (hashed for a Content-Digest of a form), and the file
            // inside it (counted here; the blob store hashes what it is given).
            let received = UploadMeter(limit: maxUploadBytes + 1 << 20, hashing: boundary != nil && declared.content != nil)
            let file = UploadMeter(limit: maxUploadBytes, hashing: false)
            defer { Counter(label: RegistryMetrics.uploadBytes).increment(by: file.bytes) }
            let body = Metered(base: request.body, meter: received)
            if let boundary {
                let found = MultipartFile<Metered<RequestBody>>.FoundFlag()
                let parts = MultipartFile(base: body, boundary: boundary, field: "upfile", found: found)
                for try await chunk in Metered(base: parts, meter: file) { try await upload.write(chunk) }
                guard found.value else { throw ViceError(.badRequest, "the form has no file field named upfile") }
            } else {
                for try await chunk in Metered(base: body, meter: file) { try await upload.write(chunk) }
            }
            if let declaredLength, declaredLength != received.bytes {
                throw ViceError(.badRequest, "Content-Length said \(declaredLength) bytes but \(received.bytes) arrived")
            }
            let blob = try await upload.seal()
            let digest = String(blob.digest.dropFirst("sha256:".count))
            let contentDigest = boundary == nil ? digest : received.hexDigest()
            if let expected = declared.content, expected != contentDigest {
                throw ViceError(.badRequest, "Content-Digest does not match the bytes received (sha-256 \(contentDigest ?? "?")); nothing was kept")
            }
            if let expected = declared.file, expected != digest {
                throw ViceError(.badRequest, "X-Checksum-Sha256 does not match the bytes received (\(digest)); nothing was kept")
            }
            let image = try await registry.finishUpload(upload, owner: owner)
            return try JSONBody.response(image)
        } catch {
            await registry.abortUpload(upload)
            throw error
        }
    }

    /// `GET /v1/image/{id}/file`: the committed bytes, with their digest as a strong ETag and
    /// single-range requests.
    func downloadImage(_ request: Request, _ context: ViceRequestContext) async throws -> Response {
        let id = try Self.pathID("imageId", context, kind: "image")
        let file = try await registry.imageFile(id: id, owner: try context.requirePrincipal())
        let etag = "\"\(file.digest)\""
        var headers: HTTPFields = [
            .contentType: Self.mediaType(of: file.image.contenttype),
            .eTag: etag,
            .acceptRanges: "bytes",
            HTTPField.Name("Content-Disposition")!: "attachment; filename=\"\(id)\(Self.fileExtension(of: file.image.contenttype))\"",
        ]
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: {
            let tag = $0.trimmingCharacters(in: .whitespaces)
            return tag == etag || tag == "*"
        }) {
            return Response(status: .notModified, headers: headers)
        }
        var range: ClosedRange<Int64>?
        if let header = request.headers[.range], request.headers[.ifRange].map({ $0 == etag }) ?? true {
            switch ByteRange.parse(header, size: file.size) {
            case .whole: break
            case .range(let bounds): range = bounds
            case .unsatisfiable:
                return try ErrorMiddleware.response(
                    status: .rangeNotSatisfiable, kind: "rangeNotSatisfiable",
                    message: "the range \(header) is outside the \(file.size) bytes of the image", context: context,
                    headers: [.contentRange: "bytes */\(file.size)"])
            }
        }
        if let range { headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(file.size)" }
        headers[.contentLength] = String(range?.count ?? Int(file.size))
        let body: ResponseBody
        switch (file.file, range) {
        case (let url?, let range?):
            body = try await fileIO.loadFile(path: url.path, range: Int(range.lowerBound)...Int(range.upperBound),
                                             context: context, chunkLength: 256 << 10)
        case (let url?, nil):
            body = try await fileIO.loadFile(path: url.path, context: context, chunkLength: 256 << 10)
        case (nil, _):
            // An object store: the bytes stream through (a ranged GET for a range).
            body = ResponseBody(asyncSequence: try await registry.bytes(of: file, range: range).map { ByteBuffer(bytes: $0) })
        }
        return Response(status: range == nil ? .ok : .partialContent, headers: headers,
                        body: body.counted(by: RegistryMetrics.downloadBytes))
    }

    static func mediaType(of type: ContentType?) -> String {
        switch type {
        case .dockerImage?: "application/x-tar"
        case .dockerFile?: "text/x-dockerfile; charset=utf-8"
        case .packerfile?: "text/plain; charset=utf-8"
        default: "application/octet-stream"
        }
    }

    static func fileExtension(of type: ContentType?) -> String {
        switch type {
        case .diskQcow2?: ".qcow2"
        case .diskVmdk?: ".vmdk"
        case .diskRaw?: ".img"
        case .dockerImage?: ".tar"
        case .dockerFile?: ".Dockerfile"
        case .packerfile?: ".pkr"
        case nil: ""
        }
    }
}
