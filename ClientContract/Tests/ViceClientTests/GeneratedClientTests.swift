import Foundation
import OpenAPIRuntime
import Testing

/// A client generated from the registry's own OpenAPI document (swift-openapi-generator) drives a
/// whole cycle against a real server: every answer must decode as the document says (unknown enum
/// values, missing required fields and wrong types throw), every status must be a documented one.
@Suite struct GeneratedClientTests {
    /// A request body of a generated type, written as a caller would write its JSON.
    func body<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(json.utf8))
    }

    func reencoded<From: Encodable, To: Decodable>(_ value: From, as type: To.Type) throws -> To {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(To.self, from: encoder.encode(value))
    }

    func eventually(_ what: String, _ check: () async throws -> Bool) async throws {
        for _ in 0..<400 {
            if try await check() { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("timed out waiting for \(what)")
    }

    @Test func aWholeCycleThroughTheGeneratedClient() async throws {
        let server = try await RegistryServer()
        defer { server.stop() }
        let client = Client(serverURL: server.url, transport: CurlTransport(),
                            middlewares: [BasicAuthentication(username: "admin", password: server.password)])

        // An environment, found again, read, and sent back unchanged (GET → PUT).
        let environment = try await client.createEnvironment(body: .json(body(Components.Schemas.EnvironmentCreate.self, """
            {"title": "generated", "credentials": {"location": "client-\(UUID())", "username": "u", "password": "cloud-secret"},
             "managementlayer": {"type": "cloudcomputing", "software": "memory"},
             "runtimetechnology": {"type": "virtualmachine", "software": "kvm"}}
            """))).created.body.json
        let environmentID = try #require(environment.id)
        #expect(environment.credentials?.value1.password == nil || environment.credentials?.value1.password != "cloud-secret",
                "the password is never answered")
        let listed = try await client.findEnvironment().ok.body.json
        #expect(listed.contains { $0.id == environmentID })
        let read = try await client.getEnvironment(path: .init(environmentId: environmentID)).ok.body.json
        let update = try reencoded(read, as: Components.Schemas.EnvironmentUpdate.self)
        let updated = try await client.updateEnvironment(body: .json(update)).created.body.json
        #expect(updated.id == environmentID && updated.title == "generated")

        // An image imported from it, watched through its job.
        let image = try await client.createImage(body: .json(body(Components.Schemas.Image.self, """
            {"title": "generated image", "originEnvironment": "\(environmentID)", "environmentReference": "sample-raw"}
            """))).created.body.json
        let imageID = try #require(image.id)
        let jobID = try #require(image.jobId)
        try await eventually("the import") {
            try await client.getImage(path: .init(imageId: imageID)).ok.body.json.status == .active
        }
        let job = try await client.getJob(path: .init(jobId: jobID)).ok.body.json
        #expect(job.state == .succeeded && job.kind == .importImage && job.imageId == imageID)
        let jobs = try await client.findJobs(query: .init(imageId: imageID)).ok.body.json
        #expect(jobs.map(\.id) == [jobID])

        // Deployed back into the environment, then removed.
        let deployment = try await client.deployImage(body: .json(body(Components.Schemas.DeploymentCreate.self, """
            {"imageid": "\(imageID)", "environmentId": "\(environmentID)", "title": "generated deployment"}
            """))).created.body.json
        let deploymentID = try #require(deployment.id)
        try await eventually("the deployment") {
            try await client.getDeployment(path: .init(deploymentId: deploymentID)).ok.body.json.status == .deployed
        }
        let removing = try await client.deleteDeployment(path: .init(deploymentId: deploymentID)).ok.body.json
        #expect(removing.status == .removing || removing.status == .deployed)
        try await eventually("the removal") {
            if case .notFound = try await client.getDeployment(path: .init(deploymentId: deploymentID)) { return true }
            return false
        }

        // The rest of the registry answers as documented.
        _ = try await client.getRuntimeStats().ok.body.json
        #expect(try await client.findAdapters().ok.body.json.contains { $0.kind == "memory" })
        _ = try await client.getUser().ok.body.json
        _ = try await client.deleteImage(path: .init(imageId: imageID)).ok.body.json
        guard case .notFound(let missing) = try await client.getImage(path: .init(imageId: imageID)) else {
            Issue.record("a deleted image is still found")
            return
        }
        #expect(try missing.body.json.message.contains(imageID))
        _ = try await client.deleteEnvironment(path: .init(environmentId: environmentID)).ok.body.json
    }
}
