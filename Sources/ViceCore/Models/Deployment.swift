public import Foundation

/// Added to the seed: where a deployment is in its life.
public enum DeploymentStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case queued, deploying, deployed, removing, failed
    /// The deploy was cancelled; nothing it began is left in the environment.
    case cancelled
}

/// An image placed into an execution environment.
public struct Deployment: Sendable, Hashable, Codable {
    public var id: String?
    public var title: String?
    public var userid: String?
    public var imageid: String?
    public var environmentId: String?
    /// The image's id inside the target environment, set once the deployment is done.
    public var environmentReference: String?
    public var status: DeploymentStatus?
    public var statusMessage: String?
    public var createdAt: Date?
    public var updatedAt: Date?
    /// Added to the seed: the job that last worked, or works, on the deployment. Set by the
    /// registry; ignored on input.
    public var jobId: String?

    public init(
        id: String? = nil, title: String? = nil, userid: String? = nil, imageid: String? = nil,
        environmentId: String? = nil, environmentReference: String? = nil, status: DeploymentStatus? = nil,
        statusMessage: String? = nil, createdAt: Date? = nil, updatedAt: Date? = nil
    ) {
        self.id = id
        self.title = title
        self.userid = userid
        self.imageid = imageid
        self.environmentId = environmentId
        self.environmentReference = environmentReference
        self.status = status
        self.statusMessage = statusMessage
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        title = try c.decodeIfPresent(String.self, forKey: .title)
        userid = try c.decodeIfPresent(String.self, forKey: .userid)
        imageid = try c.decodeIfPresent(String.self, forKey: .imageid)
        environmentId = try c.decodeIfPresent(String.self, forKey: .environmentId)
        environmentReference = try c.decodeIfPresent(String.self, forKey: .environmentReference)
        status = try c.decodeLenientEnum(DeploymentStatus.self, forKey: .status)
        statusMessage = try c.decodeIfPresent(String.self, forKey: .statusMessage)
        createdAt = try c.decodeIfPresent(Date.self, forKey: .createdAt)
        updatedAt = try c.decodeIfPresent(Date.self, forKey: .updatedAt)
        jobId = try? c.decodeIfPresent(String.self, forKey: .jobId)
    }
}
