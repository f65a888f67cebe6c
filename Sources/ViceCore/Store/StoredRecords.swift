public import Foundation

/// An environment as stored: the public fields, and the credentials sealed with AES-GCM.
public struct StoredEnvironment: Sendable, Hashable {
    /// The environment without credentials.
    public var environment: Environment
    /// `Credentials` as JSON, sealed by `CredentialCipher`.
    public var sealedCredentials: Data?

    public init(environment: Environment, sealedCredentials: Data?) {
        self.environment = environment
        self.sealedCredentials = sealedCredentials
    }

    public var id: String { environment.id ?? "" }
    public var userid: String { environment.userid ?? "" }
}

/// An image as stored: the public fields, and where it came from.
public struct StoredImage: Sendable, Hashable {
    /// The image without `originEnvironment`.
    public var image: Image
    /// The caller's environment the image was imported from, when it was given by id.
    public var originEnvironmentID: String?
    /// A sealed copy of the origin environment as it was given (with credentials): used when the
    /// origin came inline, and to describe the origin after that environment was deleted.
    public var sealedOrigin: Data?

    public init(image: Image, originEnvironmentID: String? = nil, sealedOrigin: Data? = nil) {
        self.image = image
        self.originEnvironmentID = originEnvironmentID
        self.sealedOrigin = sealedOrigin
    }

    public var id: String { image.id ?? "" }
    public var userid: String { image.userid ?? "" }
}

/// `limit` + `marker` pagination over a stable order (creation order).
public struct PageRequest: Sendable, Hashable {
    public var limit: Int?
    /// The id of the last item of the previous page.
    public var marker: String?

    public init(limit: Int? = nil, marker: String? = nil) {
        self.limit = limit
        self.marker = marker
    }

    public static let maximumLimit = 1000
}

/// One page of results and the marker for the next page, if there is one.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextMarker: String?

    public init(items: [Item], nextMarker: String?) {
        self.items = items
        self.nextMarker = nextMarker
    }
}

/// Filters of `GET /environments`: each matches the layer's or technology's `type` or `software`,
/// case-insensitively.
public struct EnvironmentFilter: Sendable, Hashable {
    public var managementLayer: String?
    public var runtimeTechnology: String?
    /// The environments this user may use (own and shared with them); nil = no restriction.
    public var viewer: UserRecord?

    public init(managementLayer: String? = nil, runtimeTechnology: String? = nil) {
        self.managementLayer = managementLayer
        self.runtimeTechnology = runtimeTechnology
    }
}

/// Search and filters of `GET /images`.
public struct ImageQuery: Sendable, Hashable {
    public var page: PageRequest
    /// Case-insensitive substring of the title.
    public var text: String?
    public var contenttype: ContentType?
    public var imagetype: ImageType?
    public var status: ImageStatus?
    /// Only images of this visibility.
    public var visibility: ImageVisibility?
    /// Only images of this owner (a user id).
    public var ownerID: String?
    /// The images this user may see (their own, public ones, and those shared with them); nil
    /// for no such restriction (admins).
    public var viewer: UserRecord?

    public init(page: PageRequest = PageRequest(), text: String? = nil, contenttype: ContentType? = nil,
                imagetype: ImageType? = nil, status: ImageStatus? = nil, visibility: ImageVisibility? = nil) {
        self.visibility = visibility
        self.page = page
        self.text = text
        self.contenttype = contenttype
        self.imagetype = imagetype
        self.status = status
    }
}
