import Foundation

/// The bwlp.thrift structs the adapter reads and writes (field ids from the IDL).
struct ClientSessionData: Sendable {
    struct Satellite: Sendable {
        var addressList: [String]
        var displayName: String?
        var certSha256: [UInt8]?
    }

    var sessionId: String
    var authToken: String
    var satellites: [Satellite]

    init(_ s: ThriftStruct) {
        sessionId = s.string(1) ?? ""
        authToken = s.string(2) ?? ""
        satellites = s.structs(3).map { Satellite(addressList: $0.strings(1), displayName: $0.string(2), certSha256: $0.binary(3)) }
    }
}

struct ImageVersionDetails: Sendable {
    var versionId: String
    var createTime: Int64?
    var fileSize: Int64
    var isValid: Bool?
    var raw: ThriftStruct

    init(_ s: ThriftStruct) {
        versionId = s.string(1) ?? ""
        createTime = s.i64(2)
        fileSize = s.i64(4) ?? 0
        isValid = s.bool(8)
        raw = s
    }
}

struct ImageDetailsRead: Sendable {
    var imageBaseId: String
    var latestVersionId: String?
    var versions: [ImageVersionDetails]
    var imageName: String
    var description: String?
    var osId: Int32?
    var virtId: String?
    var defaultPermissions: ThriftStruct?

    init(_ s: ThriftStruct) {
        imageBaseId = s.string(1) ?? ""
        latestVersionId = s.string(17)
        versions = s.structs(3).map(ImageVersionDetails.init)
        imageName = s.string(4) ?? ""
        description = s.string(5)
        osId = s.i32(8)
        virtId = s.string(9)
        defaultPermissions = s.structure(16)
    }
}

struct ImageSummaryRead: Sendable {
    var imageBaseId: String
    var imageName: String?
    var virtId: String?
    var fileSize: Int64?

    init(_ s: ThriftStruct) {
        imageBaseId = s.string(1) ?? ""
        imageName = s.string(4)
        virtId = s.string(6)
        fileSize = s.i64(13)
    }
}

struct TransferInformation: Sendable {
    var token: String
    var plainPort: Int
    var sslPort: Int
    var blockHashes: [[UInt8]]
    var machineDescription: [UInt8]?

    init(_ s: ThriftStruct) {
        token = s.string(1) ?? ""
        plainPort = Int(s.i32(2) ?? 0)
        sslPort = Int(s.i32(3) ?? 0)
        blockHashes = s.binaries(4)
        machineDescription = s.binary(5)
    }
}

/// `TransferState`: 0 IDLE, 1 WORKING, 2 FINISHED, 3 ERROR.
struct TransferStatus: Sendable {
    var state: Int32
    var blockStatus: [UInt8]

    init(_ s: ThriftStruct) {
        state = s.i32(2) ?? 0
        blockStatus = s.binary(1) ?? []
    }
}

struct OperatingSystem: Sendable {
    var osId: Int32
    var osName: String
    var architecture: String?

    init(_ s: ThriftStruct) {
        osId = s.i32(1) ?? 0
        osName = s.string(2) ?? ""
        architecture = s.string(4)
    }
}
