import Foundation
import Testing
import ViceCore
import VicePostgres
import ViceSupport
import ViceTestSupport

/// What only the PostgreSQL store does: migrate once when nodes start together, wake other
/// nodes, leave other nodes' running jobs alone, and survive a dropped connection.
@Suite struct PostgresStoreTests {
    @Test func nodesStartingTogetherMigrateTheSchemaOnce() async throws {
        let settings = try await StoreBackend.freshPostgresDatabase()
        let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
            for _ in 0..<3 { group.addTask { try await PostgresStore(settings: settings) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(stores.count == 3)
        let versions = try await stores[0].execute("SELECT version FROM schema_migrations")
        #expect(versions == 2, "each migration recorded once")
        // Every node can use the schema.
        for (index, store) in stores.enumerated() {
            try await store.write { try $0.insertJob(Job(id: "j\(index)", kind: .importImage, subjectID: "s")) }
        }
        #expect(try await stores[2].read { try $0.jobs(subjectID: "s") }.count == 3)
    }

    @Test func aJobOrEventOnOneNodeWakesTheOther() async throws {
        let settings = try await StoreBackend.freshPostgresDatabase()
        let writer = try await PostgresStore(settings: settings)
        let listener = try await PostgresStore(settings: settings)
        let woken = LockedBox<[String]>([])
        listener.listen(job: { queue in woken.withLock { $0.append(queue.rawValue) } },
                        event: { woken.withLock { $0.append("event") } })
        // LISTEN is sent once the listener's connection is up; a write before that goes unheard.
        var heard = false
        for attempt in 0..<50 where !heard {
            try await writer.write { tx in
                try tx.insertJob(Job(id: "deploy\(attempt)", kind: .deploy, subjectID: "d\(attempt)"))
                _ = try tx.appendEvent(RegistryEvent(kind: .jobState, ownerID: "u", subjectID: "d\(attempt)", data: .null))
            }
            heard = await eventually(timeout: .milliseconds(200)) { woken.withLock { $0.contains("export") && $0.contains("event") } }
        }
        #expect(heard, "heard: \(woken.withLock { $0 })")
        // A job that only changes (claimed, not due) wakes nobody. (First the notifications of the
        // attempts above, some perhaps still on their way, settle.)
        var settled = woken.withLock { $0.count }
        while true {
            try await Task.sleep(for: .milliseconds(500))
            let now = woken.withLock { $0.count }
            if now == settled { break }
            settled = now
        }
        woken.withLock { $0 = [] }
        _ = try await writer.claim(queue: .export, owner: "A", lease: 30, now: Date())
        try await Task.sleep(for: .milliseconds(300))
        #expect(!woken.withLock { $0 }.contains("export"))
        listener.shutdown()
        writer.shutdown()
    }

    @Test func aStartingNodeLeavesJobsRunningOnOtherNodesAlone() async throws {
        let fixture = try await StoreBackend.postgres.makeStore()
        try await fixture.store.write { try $0.insertJob(Job(id: "busy", kind: .importImage, subjectID: "s")) }
        let claimed = try #require(try await fixture.store.claim(queue: .import, owner: "node1", lease: 30, now: Date()))
        let second = try await fixture.reopen()
        #expect(try await second.requeueAbandoned() == 0)
        let job = try #require(try await second.read { try $0.job(id: "busy") })
        #expect(job.state == .running && job.leaseOwner == "node1" && job.leaseToken == claimed.leaseToken)
        // It is taken again only once node 1's lease has run out.
        #expect(try await second.claim(queue: .import, owner: "node2", lease: 30, now: Date()) == nil)
        let taken = try await second.claim(queue: .import, owner: "node2", lease: 30, now: Date().addingTimeInterval(31))
        #expect(taken?.id == "busy" && taken?.leaseToken == claimed.leaseToken + 1)
    }

    @Test func aDroppedConnectionIsReplaced() async throws {
        let fixture = try await StoreBackend.postgres.makeStore()
        let store = try #require(fixture.store as? PostgresStore)
        try await store.write { try $0.insertJob(Job(id: "before", kind: .importImage, subjectID: "s")) }
        // Several connections in the pool (reads at once each need one).
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { _ = try await store.read { try $0.userCount() } } }
            try await group.waitForAll()
        }
        // The server ends every other session of this database (a failover, an operator's kill).
        let killer = try await fixture.reopen() as! PostgresStore
        _ = try await killer.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        // Every pooled connection is broken now: the store finds out before a transaction begins
        // and takes a fresh connection, so no caller sees the failure.
        #expect(try await store.read { try $0.job(id: "before") }?.id == "before")
        try await store.write { try $0.insertJob(Job(id: "after", kind: .importImage, subjectID: "s")) }
        #expect(try await store.read { try $0.jobs(subjectID: "s") }.map(\.id) == ["before", "after"])
    }

    @Test func settingsComeFromAURL() throws {
        let settings = try PostgresStore.Settings(url: "postgres://vice%40lab:p%2Fss@db.example:6543/registry?sslmode=require&pool=12")
        #expect(settings.host == "db.example" && settings.port == 6543 && settings.database == "registry")
        #expect(settings.username == "vice@lab" && settings.password == "p/ss" && settings.tls == .require && settings.poolSize == 12)
        #expect(try PostgresStore.Settings(url: "postgres://vice:inline@db/registry", password: "from-file").password == "from-file")
        for bad in ["mysql://u@h/db", "postgres://u@h/", "postgres://h/db", "postgres://u@h/db?sslmode=maybe", "postgres://u@h/db?pool=0",
                    "postgres://u@h/db?options=-c"] {
            #expect(throws: ViceError.self, "\(bad)") { try PostgresStore.Settings(url: bad) }
        }
    }
}

/// Blob leases kept in the database, as two nodes sharing an object store see them.
@Suite struct PostgresBlobLeaseTests {
    @Test func aLeaseOnOneNodeStopsADeleteOnTheOtherAndADeletionMakesCommitsWait() async throws {
        let fixture = try await StoreBackend.postgres.makeStore()
        let one = PostgresBlobLeases(store: try #require(fixture.store as? PostgresStore))
        let two = PostgresBlobLeases(store: try #require(try await fixture.reopen() as? PostgresStore))
        let blob = BlobRef(digest: "sha256:" + String(repeating: "ab", count: 32), size: 1)
        let removed = LockedBox(0)
        // Node 1 commits (holds a lease until it recorded the image): node 2 may not delete.
        let lease = try await one.lease(blob) {}
        #expect(try await two.delete(blob.digest, ifUnused: { true }, remove: { removed.withLock { $0 += 1 } }) == false)
        lease.release()
        #expect(await eventually {
            (try? await two.delete(blob.digest, ifUnused: { true }, remove: { removed.withLock { $0 += 1 } })) == true
        })
        #expect(removed.withLock { $0 } == 1)

        // While node 2 removes, node 1's commit waits, and copies after the removal.
        let order = LockedBox<[String]>([])
        let deleting = Task {
            try await two.delete(blob.digest, ifUnused: { true }, remove: {
                order.withLock { $0.append("removing") }
                try await Task.sleep(for: .milliseconds(500))
                order.withLock { $0.append("removed") }
            })
        }
        #expect(await eventually { order.withLock { $0 } == ["removing"] })
        let waited = try await one.lease(blob) { order.withLock { $0.append("copied") } }
        #expect(try await deleting.value)
        #expect(order.withLock { $0 } == ["removing", "removed", "copied"])
        waited.release()
    }
}
