import Foundation
import Testing
import ViceCore
import ViceTestSupport

/// The `MetadataStore` and `JobQueue` seams, one suite for every implementation: each test runs
/// against SQLite and against PostgreSQL, each time on a fresh database.
@Suite struct MetadataStoreConformanceTests {
    func image(_ id: String, owner: String = "u1", title: String, contenttype: ContentType = .diskRaw,
               status: ImageStatus = .active) -> StoredImage {
        StoredImage(image: Image(id: id, title: title, userid: owner, imagetype: .implicit, contenttype: contenttype,
                                 status: status, createdAt: Date(), updatedAt: Date()))
    }

    @Test(arguments: StoreBackend.allCases) func pagesFollowCreationOrderWithMarkers(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        let store = fixture.store
        try await store.write { tx in
            for i in 0..<7 { try tx.insertImage(image("img\(i)", title: "image \(i)")) }
            try tx.insertImage(image("other", owner: "u2", title: "someone else's"))
        }
        let first = try await store.read { try $0.images(owner: "u1", query: ImageQuery(page: PageRequest(limit: 3))) }
        #expect(first.map(\.id) == ["img0", "img1", "img2", "img3"])  // limit + 1 tells that more follow
        let second = try await store.read {
            try $0.images(owner: "u1", query: ImageQuery(page: PageRequest(limit: 3, marker: "img2")))
        }
        #expect(second.map(\.id) == ["img3", "img4", "img5", "img6"])
        let last = try await store.read {
            try $0.images(owner: "u1", query: ImageQuery(page: PageRequest(limit: 3, marker: "img5")))
        }
        #expect(last.map(\.id) == ["img6"])
        await #expect(throws: ViceError.self) {
            try await store.read { try $0.images(owner: "u1", query: ImageQuery(page: PageRequest(limit: 3, marker: "other"))) }
        }
    }

    @Test(arguments: StoreBackend.allCases) func countsForTheMetricsGroupJobsAndImages(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        let store = fixture.store
        try await store.write { tx in
            try tx.insertImage(image("a", title: "a"))
            try tx.insertImage(image("b", title: "b"))
            try tx.insertImage(image("c", title: "c", status: .failed))
            try tx.insertJob(Job(id: "j1", kind: .importImage, subjectID: "a"))
            try tx.insertJob(Job(id: "j2", kind: .importImage, subjectID: "b"))
            var failed = Job(id: "j3", kind: .deploy, subjectID: "d")
            failed.state = .failed
            try tx.insertJob(failed)
        }
        let (jobs, images) = try await store.read { (try $0.jobCounts(), try $0.imageCounts()) }
        #expect(Set(jobs) == [JobCount(queue: .import, kind: .importImage, state: .pending, count: 2),
                              JobCount(queue: .export, kind: .deploy, state: .failed, count: 1)])
        #expect(images == ["active": 2, "failed": 1])
    }

    @Test(arguments: StoreBackend.allCases) func imageSearchMatchesTitleTextAndFilters(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        let store = fixture.store
        try await store.write { tx in
            try tx.insertImage(image("a", title: "Ubuntu 24.04 server", contenttype: .diskQcow2))
            try tx.insertImage(image("b", title: "ubuntu desktop", contenttype: .diskRaw, status: .failed))
            try tx.insertImage(image("c", title: "Debian 100%_done", contenttype: .dockerImage))
        }
        func ids(_ query: ImageQuery) async throws -> [String] {
            try await store.read { try $0.images(owner: "u1", query: query) }.map(\.id)
        }
        #expect(try await ids(ImageQuery(text: "UBUNTU")) == ["a", "b"])
        #expect(try await ids(ImageQuery(text: "ubuntu", contenttype: .diskQcow2)) == ["a"])
        #expect(try await ids(ImageQuery(status: .failed)) == ["b"])
        #expect(try await ids(ImageQuery(text: "100%_")) == ["c"])
        #expect(try await ids(ImageQuery(text: "0%d")) == [])  // % and _ are literal, not wildcards
        #expect(try await ids(ImageQuery(imagetype: .declarative)) == [])
    }

    @Test(arguments: StoreBackend.allCases) func environmentFiltersMatchTypeOrSoftwareCaseInsensitively(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        let store = fixture.store
        @Sendable func environment(_ id: String, layer: ManagementLayer, technology: RuntimeTechnology) -> StoredEnvironment {
            StoredEnvironment(environment: Environment(id: id, title: id, userid: "u1", runtimetechnology: technology,
                                                       managementlayer: layer), sealedCredentials: nil)
        }
        try await store.write { tx in
            try tx.insertEnvironment(environment("os", layer: ManagementLayer(type: .cloudcomputing, software: "OpenStack"),
                                                 technology: RuntimeTechnology(type: .virtualmachine, software: "KVM")))
            try tx.insertEnvironment(environment("dk", layer: ManagementLayer(software: "docker"),
                                                 technology: RuntimeTechnology(type: .container, software: "docker")))
        }
        func ids(_ filter: EnvironmentFilter) async throws -> [String] {
            try await store.read { try $0.environments(owner: "u1", filter: filter) }.map(\.id)
        }
        #expect(try await ids(EnvironmentFilter()) == ["os", "dk"])
        #expect(try await ids(EnvironmentFilter(managementLayer: "openstack")) == ["os"])
        #expect(try await ids(EnvironmentFilter(managementLayer: "cloudcomputing")) == ["os"])
        #expect(try await ids(EnvironmentFilter(runtimeTechnology: "container")) == ["dk"])
        #expect(try await ids(EnvironmentFilter(managementLayer: "docker", runtimeTechnology: "kvm")) == [])
    }

    @Test(arguments: StoreBackend.allCases) func duplicateIdsAndUsernamesAreConflicts(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        let store = fixture.store
        let user = UserRecord(id: "u1", username: "Alice", passwordHash: "x", email: nil, fullname: nil, isAdmin: false,
                              createdAt: Date(), updatedAt: Date())
        try await store.write { try $0.insertUser(user) }
        let twin = UserRecord(id: "u2", username: "alice", passwordHash: "x", email: nil, fullname: nil, isAdmin: false,
                              createdAt: Date(), updatedAt: Date())
        await #expect(throws: ViceError.self) { try await store.write { try $0.insertUser(twin) } }
        #expect(try await store.read { try $0.user(username: "ALICE") }?.id == "u1")
    }

    @Test(arguments: StoreBackend.allCases) func aFailedTransactionLeavesNothingBehind(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        let store = fixture.store
        struct Abort: Error {}
        await #expect(throws: Abort.self) {
            try await store.write { tx in
                try tx.insertImage(image("half", title: "half"))
                try tx.insertJob(Job(kind: .importImage, subjectID: "half"))
                throw Abort()
            }
        }
        #expect(try await store.read { try $0.image(id: "half") } == nil)
        #expect(try await store.read { try $0.jobs(subjectID: "half") }.isEmpty)
    }

    @Test(arguments: StoreBackend.allCases) func claimsTakeDueJobsOnceAndExpiredLeasesAgain(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        let store = fixture.store
        let now = Date()
        try await store.write { tx in
            try tx.insertJob(Job(id: "later", kind: .importImage, subjectID: "s1", runAt: now.addingTimeInterval(60)))
            try tx.insertJob(Job(id: "first", kind: .importImage, subjectID: "s2", runAt: now.addingTimeInterval(-2)))
            try tx.insertJob(Job(id: "second", kind: .importImage, subjectID: "s3", runAt: now.addingTimeInterval(-1)))
            try tx.insertJob(Job(id: "export", kind: .deploy, subjectID: "s4", runAt: now.addingTimeInterval(-3)))
        }
        let a = try await store.claim(queue: .import, owner: "A", lease: 10, now: now)
        let b = try await store.claim(queue: .import, owner: "B", lease: 10, now: now)
        let none = try await store.claim(queue: .import, owner: "C", lease: 10, now: now)
        #expect(a?.id == "first" && a?.attempts == 1 && a?.state == .running && a?.leaseOwner == "A")
        #expect(b?.id == "second")
        #expect(none == nil)
        #expect(try await store.read { try $0.pendingJobCount(queue: .import) } == 1)
        #expect(try await store.read { try $0.pendingJobCount(queue: .export) } == 1)
        // A's process dies: after its lease runs out, another worker takes the job again.
        let reclaimed = try await store.claim(queue: .import, owner: "C", lease: 10, now: now.addingTimeInterval(11))
        #expect(reclaimed?.id == "first" && reclaimed?.attempts == 2 && reclaimed?.leaseOwner == "C")
        #expect(a?.leaseToken == 1 && reclaimed?.leaseToken == 2, "every claim has a larger fencing token")
        #expect(try await store.renewLease(jobID: "first", owner: "A", token: 1, until: now.addingTimeInterval(30)) == .lost)
        #expect(try await store.renewLease(jobID: "first", owner: "C", token: 1, until: now.addingTimeInterval(30)) == .lost,
                "the token, not only the owner, names the claim")
        #expect(try await store.renewLease(jobID: "first", owner: "C", token: 2, until: now.addingTimeInterval(30)) == .kept)
        // A caller's cancel reaches the worker at its next renewal.
        try await store.write { tx in
            var job = try #require(try tx.job(id: "first"))
            job.cancelRequested = true
            try tx.updateJob(job)
        }
        #expect(try await store.renewLease(jobID: "first", owner: "C", token: 2, until: now.addingTimeInterval(40)) == .cancelRequested)
    }

    @Test(arguments: StoreBackend.allCases) func jobsThatEndedAreKeptListedAndPrunedButNeverClaimed(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        let store = fixture.store
        let now = Date()
        try await store.write { tx in
            try tx.insertJob(Job(id: "done", kind: .importImage, subjectID: "img", runAt: now.addingTimeInterval(-5), ownerID: "alice"))
            try tx.insertJob(Job(id: "waiting", kind: .deploy, subjectID: "dep", runAt: now.addingTimeInterval(-4), ownerID: "bob"))
        }
        let claimed = try #require(try await store.claim(queue: .import, owner: "A", lease: 10, now: now))
        #expect(claimed.startedAt != nil)
        var lifecycle = JobLifecycle(claimed)
        lifecycle.succeed(now: now)
        let succeeded = lifecycle.job
        try await store.write { tx in
            try tx.updateJob(succeeded)
            try tx.updateJobProgress(id: "done", phase: "storing", bytesDone: 10, bytesTotal: 10, at: now)
        }
        #expect(try await store.claim(queue: .import, owner: "A", lease: 10, now: now.addingTimeInterval(60)) == nil)
        #expect(try await store.read { try $0.jobs(subjectID: "img") }.isEmpty, "only unfinished jobs are a subject's jobs")
        let kept = try #require(try await store.read { try $0.job(id: "done") })
        #expect(kept.state == .succeeded && kept.finishedAt != nil && kept.ownerID == "alice")
        #expect(kept.phase == "storing" && kept.bytesDone == 10 && kept.bytesTotal == 10)

        let alices = try await store.read { try $0.jobs(JobQuery(ownerID: "alice")) }
        #expect(alices.map(\.id) == ["done"])
        let all = try await store.read { try $0.jobs(JobQuery()) }
        #expect(all.map(\.id) == ["waiting", "done"], "newest first")
        #expect(try await store.read { try $0.jobs(JobQuery(states: [.pending])) }.map(\.id) == ["waiting"])
        #expect(try await store.read { try $0.jobs(JobQuery(kind: .deploy)) }.map(\.id) == ["waiting"])
        #expect(try await store.read { try $0.jobs(JobQuery(subjectID: "img")) }.map(\.id) == ["done"])
        let paged = try await store.read { try $0.jobs(JobQuery(page: PageRequest(limit: 1, marker: "waiting"))) }
        #expect(paged.map(\.id) == ["done"])
        await #expect(throws: ViceError.self) {
            try await store.read { try $0.jobs(JobQuery(ownerID: "bob", page: PageRequest(marker: "done"))) }
        }

        #expect(try await store.write { try $0.pruneJobs(finishedBefore: now.addingTimeInterval(-1)) } == 0)
        #expect(try await store.write { try $0.pruneJobs(finishedBefore: now.addingTimeInterval(1)) } == 1)
        #expect(try await store.read { try $0.job(id: "done") } == nil)
        #expect(try await store.read { try $0.job(id: "waiting") } != nil, "unfinished jobs are never pruned")
    }

    @Test(arguments: StoreBackend.allCases) func eventsAreNumberedReadByOwnerAndPruned(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        let store = fixture.store
        let old = Date().addingTimeInterval(-3600)
        let first = try await store.write { tx in
            try tx.appendEvent(RegistryEvent(time: old, kind: .imageStatus, ownerID: "alice", subjectID: "i1", data: .object(["status": .string("queued")])))
        }
        let second = try await store.write { tx in
            try tx.appendEvent(RegistryEvent(kind: .jobState, ownerID: "bob", subjectID: "j1", data: .object(["state": .string("running")])))
        }
        #expect(second > first)
        #expect(try await store.read { try $0.lastEventSeq() } == second)
        let alices = try await store.read { try $0.events(after: 0, ownerID: "alice", limit: 10) }
        #expect(alices.count == 1 && alices[0].kind == .imageStatus && alices[0].data == .object(["status": .string("queued")]))
        #expect(try await store.read { try $0.events(after: first, ownerID: nil, limit: 10) }.map(\.seq) == [second])
        #expect(try await store.write { try $0.pruneEvents(before: Date().addingTimeInterval(-60)) } == 1)
        #expect(try await store.read { try $0.events(after: 0, ownerID: nil, limit: 10) }.map(\.seq) == [second])
    }

    @Test(arguments: StoreBackend.allCases) func webhooksKeepTheirSecretSealedAndOutOfTheRecord(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        let store = fixture.store
        let hook = Webhook(id: "w1", userid: "alice", url: "https://hooks.example/x", events: ["image.status"], secret: "never stored plain")
        try await store.write { try $0.insertWebhook(StoredWebhook(webhook: hook, sealedSecret: Data([1, 2, 3]))) }
        let stored = try #require(try await store.read { try $0.webhook(id: "w1") })
        #expect(stored.webhook.secret == nil && stored.sealedSecret == Data([1, 2, 3]) && stored.webhook.url == hook.url)
        #expect(try await store.read { try $0.webhooks(owner: "alice") }.count == 1)
        #expect(try await store.read { try $0.webhooks(owner: "bob") }.isEmpty)
        try await store.write { try $0.deleteWebhook(id: "w1") }
        #expect(try await store.read { try $0.webhook(id: "w1") } == nil)
    }

    @Test(arguments: StoreBackend.allCases) func aReleasedJobIsPendingAgainWithItsAttemptGivenBack(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        let store = fixture.store
        let now = Date()
        try await store.write { tx in
            try tx.insertJob(Job(id: "j1", kind: .importImage, subjectID: "s1", runAt: now))
        }
        let claimed = try #require(try await store.claim(queue: .import, owner: "A", lease: 60, now: now))
        try await store.release(jobID: "j1", owner: "B", token: claimed.leaseToken)
        #expect(try await store.read { try $0.job(id: "j1") }?.state == .running, "only the claim's owner releases it")
        try await store.release(jobID: "j1", owner: "A", token: claimed.leaseToken)
        let released = try await store.read { try $0.jobs(subjectID: "s1") }.first
        #expect(released?.state == .pending && released?.attempts == 0 && released?.leaseOwner == nil)
    }

    @Test(arguments: StoreBackend.allCases) func recordsSurviveReopeningTheDatabase(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        let store = fixture.store
        try await store.write { tx in
            try tx.insertImage(image("keep", title: "kept"))
            try tx.insertJob(Job(id: "job", kind: .importImage, subjectID: "keep"))
        }
        let reopened = try await fixture.reopen()
        #expect(try await reopened.read { try $0.image(id: "keep") }?.image.title == "kept")
        #expect(try await reopened.read { try $0.jobs(subjectID: "keep") }.map(\.id) == ["job"])
    }
}

/// Two stores on the same data: two processes on one SQLite file, or two nodes on one PostgreSQL.
@Suite struct SharedStoreTests {
    @Test(arguments: StoreBackend.allCases) func twoStoresClaimEachJobOnce(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        let first = fixture.store
        let second = try await fixture.reopen()
        let now = Date()
        try await first.write { tx in
            for i in 0..<20 { try tx.insertJob(Job(id: "job\(i)", kind: .importImage, subjectID: "s\(i)", runAt: now)) }
        }
        let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
            for (index, store) in [first, second, first, second].enumerated() {
                group.addTask {
                    var ids: [String] = []
                    while let job = try await store.claim(queue: .import, owner: "worker\(index)", lease: 60, now: now) {
                        ids.append(job.id)
                    }
                    return ids
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(claimed.sorted() == (0..<20).map { "job\($0)" }.sorted(), "every job claimed exactly once")
    }

    @Test(arguments: StoreBackend.allCases) func eventsWrittenByTwoStoresAreNumberedInCommitOrder(_ backend: StoreBackend) async throws {
        let fixture = try await backend.makeStore()
        let stores = [fixture.store, try await fixture.reopen()]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, store) in stores.enumerated() {
                group.addTask {
                    for i in 0..<15 {
                        try await store.write { tx in
                            let last = try tx.lastEventSeq()
                            let seq = try tx.appendEvent(RegistryEvent(kind: .jobState, ownerID: "u", subjectID: "\(index)-\(i)",
                                                                       data: .object(["after": .number(Double(last))])))
                            // A reader that saw `last` must not miss this event later: it is numbered after it.
                            if seq <= last { throw StoreTestError(description: "event \(seq) numbered before \(last)") }
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let events = try await fixture.store.read { try $0.events(after: 0, ownerID: nil, limit: 100) }
        #expect(events.count == 30)
        #expect(events.map(\.seq) == events.map(\.seq).sorted())
        // Each event was numbered after every event committed before it.
        for (index, event) in events.enumerated() {
            if case .object(let data) = event.data, case .number(let after)? = data["after"] {
                #expect(Int64(after) == (index == 0 ? 0 : events[index - 1].seq), "event \(event.seq) saw \(after)")
            }
        }
    }
}
