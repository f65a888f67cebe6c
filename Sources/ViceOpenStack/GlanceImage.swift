import ViceCore

/// A Glance image record, the fields the adapter reads.
struct GlanceImage: Sendable, Decodable {
    var id: String
    var name: String?
    var status: String
    var disk_format: String?
    var container_format: String?
    var visibility: String?
    var size: Int64?
    var virtual_size: Int64?
    var checksum: String?
    var os_hash_algo: String?
    var os_hash_value: String?
    var min_disk: Int?
    var min_ram: Int?
    var owner: String?
    var created_at: String?

    /// The registry's content type for a Glance `disk_format`, nil when there is none.
    static func contenttype(forDiskFormat format: String?) -> ContentType? {
        switch format {
        case "raw": .diskRaw
        case "qcow2": .diskQcow2
        case "vmdk": .diskVmdk
        default: nil
        }
    }

    /// The Glance `disk_format` for a registry content type; nil for content Glance cannot boot.
    static func diskFormat(for contenttype: ContentType) -> String? {
        switch contenttype {
        case .diskRaw: "raw"
        case .diskQcow2: "qcow2"
        case .diskVmdk: "vmdk"
        default: nil
        }
    }

    /// What the registry keeps of it in the image's `specifics.glance`.
    var specifics: JSONValue {
        var object: [String: JSONValue] = ["id": .string(id), "status": .string(status)]
        func put(_ key: String, _ value: String?) { if let value { object[key] = .string(value) } }
        func put(_ key: String, _ value: Int64?) { if let value { object[key] = .number(Double(value)) } }
        put("name", name)
        put("disk_format", disk_format)
        put("container_format", container_format)
        put("visibility", visibility)
        put("size", size)
        put("virtual_size", virtual_size)
        put("checksum", checksum)
        put("os_hash_algo", os_hash_algo)
        put("os_hash_value", os_hash_value)
        put("min_disk", min_disk.map(Int64.init))
        put("min_ram", min_ram.map(Int64.init))
        put("owner", owner)
        put("created_at", created_at)
        return .object(object)
    }
}

/// A page of `GET /v2/images`.
struct GlanceImagePage: Sendable, Decodable {
    var images: [GlanceImage]
    var next: String?
}
