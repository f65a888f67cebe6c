import Foundation
import Testing
import ViceAdapterTesting
import ViceCore
import ViceInMemory
import ViceTestSupport
import ViceSQLite
import HTTPTypes

/// Who may point the registry at what, and who may go on using an environment: users' own
/// environments, the per-kind rules, in-memory clouds per owner, configured environments.
@Suite struct EnvironmentAccessTests {
    static func memory(_ location: String, password: String = "cloud-secret") -> Environment {
        Environment(title: "memory", credentials: Credentials(location: location, username: "u", password: password),
                    runtimetechnology: RuntimeTechnology(type: .virtualmachine, software: "kvm"),
                    managementlayer: ManagementLayer(type: .cloudcomputing, software: "memory"))
    }

    @Test func twoUsersWhoNameTheSameInMemoryCloudGetTwoClouds() async throws {
        let harness = try await APIHarness.make()
        harness.fixture.startWorkers()
        let shared = "same-name-\(UUID())"
        try await harness.run { api in
            // alice deploys a sample into the cloud she calls `shared`.
            let source = try #require(try await api.send(.post, "/v1/environments", as: "alice",
                                                         json: memoryEnvironmentJSON(cloud: "src-\(UUID())")).string("id"))
            let target = try #require(try await api.send(.post, "/v1/environments", as: "alice",
                                                         json: memoryEnvironmentJSON(cloud: shared)).string("id"))
            let image = try #require(try await api.send(.post, "/v1/images", as: "alice", json: """
                {"originEnvironment": "\(source)", "environmentReference": "sample-raw"}
                """).string("id"))
            #expect(try await eventually { try await api.send(.get, "/v1/image/\(image)", as: "alice").string("status") == "active" })
            let deployment = try #require(try await api.send(.post, "/v1/deploy", as: "alice",
                                                             json: #"{"imageid": "\#(image)", "environmentId": "\#(target)"}"#).string("id"))
            var reference: String?
            #expect(try await eventually {
                reference = try await api.send(.get, "/v1/deployment/\(deployment)", as: "alice").string("environmentReference")
                return reference != nil
            })
            let deployed = try #require(reference)
            #expect(try await api.send(.get, "/v1/environment/\(target)/images", as: "alice").array.contains { $0["reference"] as? String == deployed })

            // bob names the same location: his cloud has only the samples, and alice's image cannot be imported.
            let bobs = try #require(try await api.send(.post, "/v1/environments", as: "bob", json: memoryEnvironmentJSON(cloud: shared)).string("id"))
            let listed = try await api.send(.get, "/v1/environment/\(bobs)/images", as: "bob").array.compactMap { $0["reference"] as? String }
            #expect(!listed.isEmpty && !listed.contains(deployed), "\(listed)")
            let stolen = try #require(try await api.send(.post, "/v1/images", as: "bob", json: """
                {"originEnvironment": "\(bobs)", "environmentReference": "\(deployed)"}
                """).string("id"))
            var status: String?
            #expect(try await eventually {
                status = try await api.send(.get, "/v1/image/\(stolen)", as: "bob").string("status")
                return status == "failed"
            }, "\(status ?? "")")
        }
        await harness.fixture.stopWorkers()
    }

    @Test func aCloudKeepsThePasswordItWasOpenedWith() async throws {
        let harness = try await APIHarness.make()
        let location = "locked-\(UUID())"
        try await harness.run { api in
            let first = try #require(try await api.send(.post, "/v1/environments", as: "bob",
                                                        json: memoryEnvironmentJSON(cloud: location, password: "first")).string("id"))
            let second = try #require(try await api.send(.post, "/v1/environments", as: "bob",
                                                         json: memoryEnvironmentJSON(cloud: location, password: "guess")).string("id"))
            #expect(try await api.send(.get, "/v1/environment/\(first)/health", as: "bob").string("status") == "healthy")
            let refused = try await api.send(.get, "/v1/environment/\(second)/health", as: "bob")
            #expect(refused.string("status") == "unhealthy")
            #expect(refused.string("message")?.contains("refused the credentials") == true, "\(refused.text)")
        }
    }

    @Test func inMemoryCloudsAreCappedPerUser() async throws {
        let fixture = try await RegistryFixture()
        let dave = try await fixture.user("dave-\(UUID().uuidString.prefix(8))")
        var refusal: ViceError?
        for index in 0...InMemoryCloud.maximumCloudsPerOwner {
            do {
                _ = try await fixture.registry.createEnvironment(Self.memory("cloud-\(index)"), owner: dave)
            } catch let error as ViceError {
                refusal = error
                #expect(index == InMemoryCloud.maximumCloudsPerOwner)
                break
            }
        }
        #expect(refusal?.message.contains("at most \(InMemoryCloud.maximumCloudsPerOwner) clouds") == true, "\(String(describing: refusal))")
    }

    @Test func kindsAndLocationsFollowThePolicyForUsersButNotForAdmins() async throws {
        let policy = EnvironmentPolicy(rules: [
            "memory": AdapterAccessRule(usersMayCreate: true, locations: [LocationPattern("lab-*")!, LocationPattern("*.uni.example")!]),
            "limited": AdapterAccessRule(usersMayCreate: false),
        ])
        let user = try UserRecordMaker.make(admin: false), admin = try UserRecordMaker.make(admin: true)
        #expect(throws: ViceError.self) { try policy.authorize(Self.memory("elsewhere"), trusted: false) }
        try policy.authorize(Self.memory("cloud.uni.example"), trusted: false)
        try policy.authorize(Self.memory("elsewhere"), trusted: true)
        var limited = Self.memory("x")
        limited.managementlayer?.software = "limited"
        #expect { try policy.authorize(limited, trusted: user.isAdmin) } throws: { "\($0)".contains("only admins") }
        try policy.authorize(limited, trusted: admin.isAdmin)
        // Whatever the rule says, users get no loopback, link-local or unix socket locations.
        let open = EnvironmentPolicy()
        for location in ["http://127.0.0.1:5000/v3", "tcp://[::1]:2375", "unix:///var/run/docker.sock", "/var/run/docker.sock",
                         "http://169.254.169.254/", "tcp://localhost:2375"] {
            var docker = Self.memory(location)
            docker.managementlayer?.software = "docker"
            #expect(throws: ViceError.self, "\(location)") { try open.authorize(docker, trusted: false) }
        }
        var adminsEngine = Self.memory("unix:///var/run/docker.sock")
        adminsEngine.managementlayer?.software = "docker"
        try open.authorize(adminsEngine, trusted: true)
        #expect(throws: ViceError.self) { try open.authorize(Self.memory("http://169.254.169.254/"), trusted: true) }
    }

    @Test func aConfiguredEnvironmentsSecretsNeverLandInImageRows() async throws {
        let harness = try await APIHarness.make()
        let cloud = "configured-\(UUID())"
        var configured = ConfiguredEnvironmentAPITests.configured("operators", cloud: cloud, users: ["bob"])
        configured.environment.credentials?.specifics = .object(["token": .string("specifics-secret")])
        harness.fixture.registry.replaceConfiguredEnvironments([configured])
        harness.fixture.startWorkers()
        try await harness.run { api in
            let image = try #require(try await api.send(.post, "/v1/images", as: "bob",
                                                        json: #"{"originEnvironment": "operators", "environmentReference": "sample-raw"}"#).string("id"))
            #expect(try await eventually { try await api.send(.get, "/v1/image/\(image)", as: "bob").string("status") == "active" })
            let stored = try #require(try await harness.fixture.store.read { try $0.image(id: image) })
            #expect(stored.originEnvironmentID == "operators")
            if let sealed = stored.sealedOrigin {
                let kept = try harness.fixture.cipher.open(sealed)
                let text = String(decoding: kept, as: UTF8.self)
                #expect(!text.contains("operator-secret") && !text.contains("specifics-secret"), "\(text)")
            }
            // The database file holds neither secret in any form the registry could decrypt or read.
            let database = try await harness.fixture.storedBytes()
            #expect(database.range(of: Data("operator-secret".utf8)) == nil)
        }
        await harness.fixture.stopWorkers()
    }

    @Test func aUserRemovedFromAConfiguredEnvironmentCannotGoOnUsingIt() async throws {
        let harness = try await APIHarness.make()
        let source = ConfiguredEnvironmentAPITests.configured("course", cloud: "course-\(UUID())", users: ["bob"])
        let target = ConfiguredEnvironmentAPITests.configured("lab", cloud: "lab-\(UUID())", users: ["bob"])
        harness.fixture.registry.replaceConfiguredEnvironments([source, target])
        harness.fixture.startWorkers()
        try await harness.run { api in
            let image = try #require(try await api.send(.post, "/v1/images", as: "bob",
                                                        json: #"{"originEnvironment": "course", "environmentReference": "sample-raw"}"#).string("id"))
            #expect(try await eventually { try await api.send(.get, "/v1/image/\(image)", as: "bob").string("status") == "active" })
        }
        await harness.fixture.stopWorkers()
        // A deployment queued while bob may still use the lab, run after he was removed from it.
        let deployment = try await harness.fixture.registry.createDeployment(
            Deployment(imageid: try await firstImage(harness), environmentId: "lab"), owner: harness.bob)
        var revoked = source, revokedTarget = target
        revoked.users = ["carol"]
        revokedTarget.users = ["carol"]
        harness.fixture.registry.replaceConfiguredEnvironments([revoked, revokedTarget])
        harness.fixture.startWorkers()
        try await harness.run { api in
            let id = try await firstImage(harness)
            // A re-import asked for is queued but refused when it runs.
            #expect(try await api.send(.post, "/v1/image/\(id)/import", as: "bob").status == 200)
            var image = Exchange(status: 0, headers: [:], body: Data())
            #expect(try await eventually {
                image = try await api.send(.get, "/v1/image/\(id)", as: "bob")
                return image.string("statusMessage")?.contains("no longer available") == true
            }, "\(image.text)")
            #expect(image.string("status") == "active")   // the bytes it had stay
            var deployed = Exchange(status: 0, headers: [:], body: Data())
            #expect(try await eventually {
                deployed = try await api.send(.get, "/v1/deployment/\(deployment.id!)", as: "bob")
                return deployed.string("status") == "failed"
            }, "\(deployed.text)")
            #expect(deployed.string("statusMessage")?.contains("no longer available") == true, "\(deployed.text)")
        }
        await harness.fixture.stopWorkers()
    }

    func firstImage(_ harness: APIHarness) async throws -> String {
        try #require(try await harness.fixture.registry.images(owner: harness.bob, query: ImageQuery()).items.first?.id)
    }

    @Test func aDeploymentWhoseImageNeverGetsBytesFailsAfterTheWaitLimit() async throws {
        let fixture = try await RegistryFixture(deployWaitLimit: 1)
        let erin = try await fixture.user("erin")
        let target = try await fixture.memoryEnvironment(owner: erin, cloud: "wait-\(UUID())")
        let empty = try await fixture.registry.createImage(Image(title: "never uploaded", contenttype: .diskRaw), owner: erin)
        fixture.startWorkers()
        let deployment = try await fixture.registry.createDeployment(Deployment(imageid: empty.id, environmentId: target.id), owner: erin)
        let failed = try await fixture.waitForDeployment(deployment.id!, owner: erin, status: .failed)
        #expect(failed?.status == .failed)
        #expect(failed?.statusMessage?.contains("got no stored bytes within 1 s") == true, "\(failed?.statusMessage ?? "")")
        await fixture.stopWorkers()
    }

    @Test func aJobThatRunsTooLongIsStoppedAndFails() async throws {
        let fixture = try await RegistryFixture()
        let frank = try await fixture.user("frank")
        let slow = try await fixture.memoryEnvironment(owner: frank, cloud: "slow-\(UUID())", specifics: .object(["chunkDelayMs": .string("2000")]))
        fixture.startWorkers(timeLimit: .seconds(1))
        let image = try await fixture.registry.createImage(
            Image(originEnvironment: Environment(id: slow.id), environmentReference: "sample-raw"), owner: frank)
        let failed = try await fixture.waitForImage(image.id!, owner: frank, status: .failed)
        #expect(failed.status == .failed)
        #expect(failed.statusMessage?.contains("ran longer than its limit of 1 s") == true, "\(failed.statusMessage ?? "")")
        await fixture.stopWorkers()
    }
}

/// User records for policy checks that need no store.
enum UserRecordMaker {
    static func make(admin: Bool) throws -> UserRecord {
        UserRecord(id: IDGenerator.make(), username: admin ? "root" : "user", passwordHash: "-", email: nil, fullname: nil,
                   isAdmin: admin, createdAt: Date(), updatedAt: Date())
    }
}
