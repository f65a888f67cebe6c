public import Foundation

/// The seed's `Image.imagetype` enum.
public enum ImageType: String, Sendable, Hashable, Codable, CaseIterable {
    case implicit, declarative
}

/// The seed's `Image.contenttype` enum.
public enum ContentType: String, Sendable, Hashable, Codable, CaseIterable {
    case diskRaw = "disk-raw"
    case diskQcow2 = "disk-qcow2"
    case diskVmdk = "disk-vmdk"
    case dockerFile = "docker-file"
    case dockerImage = "docker-image"
    case packerfile
}

/// Added to the seed: where an image is in its life.
public enum ImageStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Created; waiting for an import job or an upload.
    case queued
    /// An import job is fetching the bytes from the origin environment.
    case importing
    /// Bytes arrived and are being committed to the store.
    case storing
    /// The bytes are in the store (`size` and `checksum` are set).
    case active
    /// The last import or store failed; `statusMessage` says why.
    case failed
    /// The import was cancelled before the image had bytes (`POST /v1/jobs/{id}/retry` or
    /// `POST /v1/image/{id}/import` starts it again).
    case cancelled
}

/// A virtual environment held by the registry.
public struct Image: Sendable, Hashable, Codable {
    public var id: String?
    public var title: String?
    public var userid: String?
    public var imagetype: ImageType?
    public var contenttype: ContentType?
    public var imported: Bool?
    /// The environment the image comes from (credentials redacted in responses).
    public var originEnvironment: Environment?
    /// The image's id inside its origin environment.
    public var environmentReference: String?
    public var specifics: JSONValue?
    public var status: ImageStatus?
    public var statusMessage: String?
    /// Size of the stored bytes.
    public var size: Int64?
    /// `sha256:<hex>` of the stored bytes.
    public var checksum: String?
    public var createdAt: Date?
    public var updatedAt: Date?
    /// Added to the seed: `private` (default: the owner only), `shared` (also the users named in
    /// `members`) or `public` (every user). Others may find, read, download and deploy it into
    /// their own environments; only the owner or an admin changes or deletes it.
    public var visibility: ImageVisibility?
    /// User names a `shared` image is shared with.
    public var members: [String]?
    /// Added to the seed: the job that last worked, or works, on the image (`GET /v1/jobs/{id}`).
    /// Set by the registry; ignored on input.
    public var jobId: String?

    public init(
        id: String? = nil, title: String? = nil, userid: String? = nil, imagetype: ImageType? = nil,
        contenttype: ContentType? = nil, imported: Bool? = nil, originEnvironment: Environment? = nil,
        environmentReference: String? = nil, specifics: JSONValue? = nil, status: ImageStatus? = nil,
        statusMessage: String? = nil, size: Int64? = nil, checksum: String? = nil,
        createdAt: Date? = nil, updatedAt: Date? = nil, visibility: ImageVisibility? = nil, members: [String]? = nil
    ) {
        self.visibility = visibility
        self.members = members
        self.id = id
        self.title = title
        self.userid = userid
        self.imagetype = imagetype
        self.contenttype = contenttype
        self.imported = imported
        self.originEnvironment = originEnvironment
        self.environmentReference = environmentReference
        self.specifics = specifics
        self.status = status
        self.statusMessage = statusMessage
        self.size = size
        self.checksum = checksum
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        title = try c.decodeIfPresent(String.self, forKey: .title)
        userid = try c.decodeIfPresent(String.self, forKey: .userid)
        imagetype = try c.decodeLenientEnum(ImageType.self, forKey: .imagetype)
        contenttype = try c.decodeLenientEnum(ContentType.self, forKey: .contenttype)
        imported = try c.decodeIfPresent(Bool.self, forKey: .imported)
        // The origin is a whole Environment (as the original web UI sent it) or just an environment id.
        if let id = try? c.decodeIfPresent(String.self, forKey: .originEnvironment) {
            originEnvironment = Environment(id: id)
        } else {
            originEnvironment = try c.decodeIfPresent(Environment.self, forKey: .originEnvironment)
        }
        environmentReference = try c.decodeIfPresent(String.self, forKey: .environmentReference)
        specifics = try c.decodeIfPresent(JSONValue.self, forKey: .specifics)?.unwrappingEncodedString
        status = try c.decodeLenientEnum(ImageStatus.self, forKey: .status)
        statusMessage = try c.decodeIfPresent(String.self, forKey: .statusMessage)
        size = try c.decodeIfPresent(Int64.self, forKey: .size)
        checksum = try c.decodeIfPresent(String.self, forKey: .checksum)
        createdAt = try c.decodeIfPresent(Date.self, forKey: .createdAt)
        updatedAt = try c.decodeIfPresent(Date.self, forKey: .updatedAt)
        visibility = try c.decodeLenientEnum(ImageVisibility.self, forKey: .visibility)
        members = try c.decodeIfPresent([String].self, forKey: .members)
        jobId = try? c.decodeIfPresent(String.self, forKey: .jobId)
    }
}

/// Who may see an image besides its owner and the admins.
public enum ImageVisibility: String, Sendable, Hashable, Codable, CaseIterable {
    case `private`, shared, `public`
}

extension Image {
    /// Whether `user` may find, read, download and deploy this image.
    public func isVisible(to user: UserRecord) -> Bool {
        if user.mayManage(userid) { return true }
        switch visibility ?? .private {
        case .public: return true
        case .shared: return (members ?? []).contains { $0.lowercased() == user.username.lowercased() }
        case .private: return false
        }
    }
}
