import Foundation

/// The master server's calls the adapter makes.
struct MasterServer: Sendable {
    let client: ThriftClient

    func ping() async throws -> Bool {
        if case .bool(let up)? = try await client.call("ping", ThriftStruct()) { return up }
        return false
    }

    func localAccountLogin(login: String, password: String) async throws -> ClientSessionData {
        let value = try await client.call("localAccountLogin", ThriftStruct([(1, .string(login)), (2, .string(password))]),
                                          exceptions: [1: .authorization, 2: .invocation])
        guard case .structure(let s)? = value else { throw ThriftError.protocolError("localAccountLogin returned no session") }
        return ClientSessionData(s)
    }
}

/// The satellite's calls the adapter makes (bwlp.thrift `SatelliteServer`).
struct SatelliteServer: Sendable {
    let client: ThriftClient
    let token: String

    func getVersion() async throws -> Int64 {
        if case .i64(let version)? = try await client.call("getVersion", ThriftStruct([(1, .i64(5))])) { return version }
        throw ThriftError.protocolError("getVersion returned no number")
    }

    func whoami() async throws {
        try await client.call("whoami", ThriftStruct([(1, .string(token))]), exceptions: [1: .authorization, 2: .invocation])
    }

    func getImageList(page: Int32) async throws -> [ImageSummaryRead] {
        let value = try await client.call("getImageList", ThriftStruct([(1, .string(token)), (2, .strings([])), (3, .i32(page))]),
                                          exceptions: [1: .authorization, 2: .invocation])
        guard case .list(_, let items)? = value else { return [] }
        return items.compactMap { if case .structure(let s) = $0 { ImageSummaryRead(s) } else { nil } }
    }

    func getImageDetails(_ imageBaseId: String) async throws -> ImageDetailsRead {
        let value = try await client.call("getImageDetails", ThriftStruct([(1, .string(token)), (2, .string(imageBaseId))]),
                                          exceptions: [1: .authorization, 2: .notFound, 3: .invocation])
        guard case .structure(let s)? = value else { throw ThriftError.protocolError("getImageDetails returned nothing") }
        return ImageDetailsRead(s)
    }

    func getOperatingSystems() async throws -> [OperatingSystem] {
        guard case .list(_, let items)? = try await client.call("getOperatingSystems", ThriftStruct()) else { return [] }
        return items.compactMap { if case .structure(let s) = $0 { OperatingSystem(s) } else { nil } }
    }

    func createImage(name: String) async throws -> String {
        let value = try await client.call("createImage", ThriftStruct([(1, .string(token)), (2, .string(name))]),
                                          exceptions: [1: .authorization, 2: .invocation])
        guard case .binary(let id)? = value else { throw ThriftError.protocolError("createImage returned no id") }
        return String(decoding: id, as: UTF8.self)
    }

    func updateImageBase(_ imageBaseId: String, _ image: ThriftStruct) async throws {
        try await client.call("updateImageBase", ThriftStruct([(1, .string(token)), (2, .string(imageBaseId)), (3, .structure(image))]),
                              exceptions: [1: .authorization, 2: .notFound, 3: .invocation])
    }

    func requestImageVersionUpload(_ imageBaseId: String, size: Int64, hashes: [[UInt8]],
                                   machineDescription: [UInt8]) async throws -> TransferInformation {
        let value = try await client.call(
            "requestImageVersionUpload",
            ThriftStruct([(1, .string(token)), (2, .string(imageBaseId)), (3, .i64(size)), (4, .binaries(hashes)),
                          (5, .binary(machineDescription))]),
            exceptions: [1: .transferRejected, 2: .authorization, 3: .invocation, 4: .notFound])
        guard case .structure(let s)? = value else { throw ThriftError.protocolError("requestImageVersionUpload returned nothing") }
        return TransferInformation(s)
    }

    /// The cumulative list of block hashes from block 0 (for uploads started without them).
    func updateBlockHashes(_ uploadToken: String, hashes: [[UInt8]]) async throws {
        try await client.call("updateBlockHashes", ThriftStruct([(1, .string(uploadToken)), (2, .binaries(hashes)), (3, .string(token))]),
                              exceptions: [1: .invalidToken])
    }

    func queryUploadStatus(_ uploadToken: String) async throws -> TransferStatus {
        let value = try await client.call("queryUploadStatus", ThriftStruct([(1, .string(uploadToken))]), exceptions: [1: .invalidToken])
        guard case .structure(let s)? = value else { throw ThriftError.protocolError("queryUploadStatus returned nothing") }
        return TransferStatus(s)
    }

    func cancelUpload(_ uploadToken: String) async throws {
        try await client.call("cancelUpload", ThriftStruct([(1, .string(uploadToken))]), exceptions: [1: .invalidToken])
    }

    func requestDownload(_ imageVersionId: String) async throws -> TransferInformation {
        let value = try await client.call("requestDownload", ThriftStruct([(1, .string(token)), (2, .string(imageVersionId))]),
                                          exceptions: [1: .transferRejected, 2: .authorization, 3: .invocation, 4: .notFound])
        guard case .structure(let s)? = value else { throw ThriftError.protocolError("requestDownload returned nothing") }
        return TransferInformation(s)
    }

    func cancelDownload(_ downloadToken: String) async throws {
        try await client.call("cancelDownload", ThriftStruct([(1, .string(downloadToken))]), exceptions: [1: .invalidToken])
    }

    func deleteImageVersion(_ imageVersionId: String) async throws {
        try await client.call("deleteImageVersion", ThriftStruct([(1, .string(token)), (2, .string(imageVersionId))]),
                              exceptions: [1: .authorization, 2: .notFound, 3: .invocation])
    }

    func deleteImageBase(_ imageBaseId: String) async throws {
        try await client.call("deleteImageBase", ThriftStruct([(1, .string(token)), (2, .string(imageBaseId))]),
                              exceptions: [1: .authorization, 2: .notFound, 3: .invocation])
    }
}
