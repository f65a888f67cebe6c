import ArgumentParser
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import Logging
import ServiceLifecycle
import ViceConfig
import ViceCore
import ViceServer
import ViceDashboard
import ViceStorage
import ViceSQLite
import VicePostgres
import ViceExternal
import UnixSignals

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the registry: the HTTP control API and the job workers.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let configuration: ViceConfiguration
        do {
            configuration = try RegistryAssembly.loadConfiguration(options.config)
        } catch let error as ExitCodeError {
            throw ExitCode(error.code)
        }
        LogSetup.bootstrap(configuration.logging)
        let logger = Logger(label: "vice")
        let assembly = try await RegistryAssembly(configuration: configuration, logger: logger)
        let registry = assembly.registry
        let metrics = MetricsSetup(registry: registry, logger: logger)
        metrics.bootstrap()
        // Jobs enqueued and events recorded by other nodes wake this node's workers and streams.
        assembly.sharedStore?.listen(job: { registry.signal(for: $0).notify() }, event: { registry.events.notify() })
        defer { assembly.sharedStore?.shutdown() }

        let removed = try assembly.fileBlobs?.removeTemporaryFiles() ?? 0
        if removed > 0 { logger.notice("removed \(removed) temporary files left by an interrupted write") }
        let requeued = try await assembly.store.requeueAbandoned()
        if requeued > 0 { logger.notice("re-queued \(requeued) jobs that were running when the registry last stopped") }
        let orphans = try await registry.removeOrphanedIngests()
        if orphans > 0 { logger.notice("removed \(orphans) staged uploads that were cut off when the registry last stopped") }
        let unreferenced = try await registry.removeUnreferencedBlobs()
        if unreferenced > 0 { logger.notice("freed \(unreferenced) blobs no image holds (left by an interrupted import or conversion)") }
        try await bootstrapAdmin(registry, configuration: configuration, logger: logger)
        try await registry.pruneHistory()
        let pidFile = PidFile(path: configuration.pidFile)
        pidFile.write(logger: logger)
        defer { pidFile.remove() }
        let reloader = EnvironmentReloader(configurationPath: options.config,
                                           statusPath: ReloadStatus.path(forPidFile: configuration.pidFile),
                                           registry: registry, logger: logger)
        reloader.reload(reason: "start")

        let grace = Duration.seconds(configuration.workers.shutdownGraceSeconds)
        let limit = Duration.seconds(configuration.workers.jobTimeLimitSeconds)
        let lease = TimeInterval(configuration.workers.leaseSeconds)
        let workersRunning = LockedBox(0)
        let pools = [
            registry.makeWorkerPool(queue: .import, concurrency: configuration.workers.import, jobs: assembly.store, lease: lease,
                                    grace: grace, timeLimit: limit),
            registry.makeWorkerPool(queue: .export, concurrency: configuration.workers.export, jobs: assembly.store, lease: lease,
                                    grace: grace, timeLimit: limit),
            registry.makeWorkerPool(queue: .store, concurrency: configuration.workers.store, jobs: assembly.store, lease: lease,
                                    grace: grace, timeLimit: limit),
            // Deliveries are short; a slow receiver ties up one of them for at most its timeouts.
            registry.makeWorkerPool(queue: .webhook, concurrency: configuration.workers.webhooks, jobs: assembly.store, retry: RetryPolicy(base: 2, cap: 300), lease: lease,
                                    grace: .seconds(5), timeLimit: .seconds(60)),
        ]
        let host = configuration.server.host
        let http1 = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .seconds(Int64(configuration.server.idleTimeoutSeconds))))
        let server: HTTPServerBuilder
        let scheme: String
        if let tls = configuration.server.tls {
            server = try .tls(http1, tlsConfiguration: Self.tlsConfiguration(tls))
            scheme = "https"
        } else {
            server = http1
            scheme = "http"
            if !Self.isLoopback(host) {
                logger.warning("listening on \(host) without TLS: Basic credentials cross the network in clear; set server.tls or put a TLS proxy in front")
            }
        }
        let api = ViceAPI(registry: registry, maxUploadBytes: configuration.storage.maxUploadBytes,
                            uploadsPerUser: configuration.server.uploadsPerUser,
                            uploadsInTotal: configuration.server.uploadsInTotal,
                            corsOrigins: configuration.server.corsOrigins,
                            operations: OperationsOptions(
                                metricsAccess: Self.metricsAccess(configuration.metrics),
                                renderMetrics: { await metrics.render() },
                                workersRunning: { workersRunning.withLock { $0 } == pools.count }))
        let router = api.makeRouter()
        Dashboard(registry: registry, secureCookies: configuration.server.tls != nil).register(on: router)
        let app = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(host, port: configuration.server.port), serverName: "vice-registry"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.server.port
                // Printed on stdout so scripts and tests learn the port (also with port 0).
                FileHandle.standardOutput.write(Data("vice listening on \(scheme)://\(host):\(port)\n".utf8))
            },
            logger: logger)
        // Services stop in reverse order: first the HTTP server stops taking requests, then the
        // workers finish their running jobs within the grace period, then the plugin monitors and
        // the configuration reloader end.
        let services: [any Service] = [reloader] + assembly.plugins.map(PluginMonitorService.init)
            + pools.map { WorkerPoolService(pool: $0, running: workersRunning) } + [app]
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        // Jobs that ended and events past their retention go once an hour.
        let pruning = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(3600))
                if Task.isCancelled { break }
                do { try await registry.pruneHistory() } catch { logger.warning("pruning old jobs and events failed: \(error)") }
            }
        }
        defer { pruning.cancel() }
        let healthChecks = Task {
            let interval = configuration.metrics.environmentHealthSeconds
            guard interval > 0, configuration.metrics.access != .off else { return }
            while !Task.isCancelled {
                do { try await registry.checkEnvironmentHealth() } catch { logger.warning("checking the environments' health failed: \(error)") }
                try? await Task.sleep(for: .seconds(interval))
            }
        }
        defer { healthChecks.cancel() }
        try await group.run()
        logger.info("stopped")
    }
    /// The server's TLS settings from PEM files; a file that cannot be read stops start-up.
    static func tlsConfiguration(_ files: ServerSettings.TLSFiles) throws -> TLSConfiguration {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificate).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: files.key, format: .pem)
            guard !chain.isEmpty else { throw ViceError(.internal, "no certificate in \(files.certificate)") }
            var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            configuration.minimumTLSVersion = .tlsv12
            return configuration
        } catch {
            throw ViceError(.internal, "server.tls: cannot load \(files.certificate) / \(files.key): \(error)")
        }
    }

    static func metricsAccess(_ settings: MetricsSettings) -> OperationsOptions.MetricsAccess {
        switch settings.access {
        case .off: .off
        case .open: .open
        case .token: .token(settings.token ?? "")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]"
    }

    func bootstrapAdmin(_ registry: Registry, configuration: ViceConfiguration, logger: Logger) async throws {
        let given = ProcessInfo.processInfo.environment["VICE_ADMIN_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        // Read once, then gone: the bytes are overwritten where the kernel shows them
        // (/proc/<pid>/environ reads the original block), and the variable is unset for children.
        let name = "VICE_ADMIN_PASSWORD"
        if let value = getenv(name) {
            let entry = value - (name.utf8.count + 1)   // the "NAME=value" string the value is part of
            let length = strlen(entry)
            unsetenv(name)
            memset(entry, 0, length)
        }
        guard let created = try await registry.bootstrapAdmin(password: given) else { return }
        guard let generated = created.generatedPassword else {
            logger.notice("created user 'admin' with the password from VICE_ADMIN_PASSWORD")
            return
        }
        let path = configuration.security.adminPasswordFile
        do {
            try? FileManager.default.removeItem(atPath: path)  // an old file of a database since deleted
            try SecretFile.create(path, contents: Data((generated + "\n").utf8))
        } catch {
            logger.error("could not write the generated admin password to \(path): \(error); it is shown below only")
            FileHandle.standardOutput.write(Data("Created user 'admin' with the generated password: \(generated)\n".utf8))
            return
        }
        // Shown once, on the terminal only: never through the logger.
        FileHandle.standardOutput.write(Data("""
            Created user 'admin' with the generated password: \(generated)
            (also stored in \(path), readable only by this user; change it with 'vice user passwd admin')

            """.utf8))
    }
}

/// Runs a worker pool as a service: graceful shutdown stops claiming and drains running jobs.
/// `running` counts the pools that run and have not been told to stop (for `GET /ready`).
struct WorkerPoolService: Service {
    let pool: WorkerPool
    let running: LockedBox<Int>

    func run() async throws {
        running.withLock { $0 += 1 }
        await withGracefulShutdownHandler {
            await pool.run()
        } onGracefulShutdown: {
            running.withLock { $0 -= 1 }
            pool.shutdown()
        }
    }
}

/// Keeps an external adapter plugin's handshake current while the server runs.
struct PluginMonitorService: Service {
    let plugin: ExternalPlugin

    func run() async throws {
        await cancelWhenGracefulShutdown { await plugin.monitor() }
    }
}

/// The server's pid, for `vice env reload`.
struct PidFile {
    let path: String

    func write(logger: Logger) {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        do {
            try "\(getpid())\n".write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            logger.warning("cannot write the pid file \(path): \(error); `vice env reload` will not find the server")
        }
    }

    func remove() {
        if (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) == "\(getpid())" {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: ReloadStatus.path(forPidFile: path))
        }
    }
}
