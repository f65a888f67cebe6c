package import Foundation

/// What events carry about their subjects: ids, status and the job — never origins,
/// credentials or specifics, which only the record itself (behind its access checks) shows.
extension Image {
    var eventData: JSONValue { eventData(status: status?.rawValue ?? ImageLifecycle.initialStatus.rawValue) }

    func eventData(status: String) -> JSONValue {
        .object([
            "id": .string(id ?? ""), "title": title.map(JSONValue.string) ?? .null, "status": .string(status),
            "statusMessage": statusMessage.map(JSONValue.string) ?? .null, "jobId": jobId.map(JSONValue.string) ?? .null,
            "checksum": checksum.map(JSONValue.string) ?? .null, "size": size.map { .number(Double($0)) } ?? .null,
            "updatedAt": .string((updatedAt ?? Date()).formatted(.iso8601)),
        ])
    }
}

extension Deployment {
    var eventData: JSONValue { eventData(status: status?.rawValue ?? DeploymentLifecycle.initialStatus.rawValue) }

    func eventData(status: String) -> JSONValue {
        .object([
            "id": .string(id ?? ""), "title": title.map(JSONValue.string) ?? .null, "status": .string(status),
            "statusMessage": statusMessage.map(JSONValue.string) ?? .null, "jobId": jobId.map(JSONValue.string) ?? .null,
            "imageid": imageid.map(JSONValue.string) ?? .null, "environmentId": environmentId.map(JSONValue.string) ?? .null,
            "environmentReference": environmentReference.map(JSONValue.string) ?? .null,
            "updatedAt": .string((updatedAt ?? Date()).formatted(.iso8601)),
        ])
    }
}

extension JobInfo {
    /// The job as `GET /v1/jobs/{id}` shows it.
    var eventData: JSONValue {
        (try? JSONDecoder().decode(JSONValue.self, from: APIJSON.encoder.encode(self))) ?? .object(["id": .string(id)])
    }
}

/// JSON as the API writes it: dates in ISO 8601.
package enum APIJSON {
    package static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        // Sorted: the same event is the same bytes at every delivery (and signature).
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
