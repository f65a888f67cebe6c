import Foundation
import Logging
import ServiceLifecycle
import UnixSignals
import ViceConfig
import ViceCore

#if canImport(Glibc)
import Glibc
#endif

/// Puts the configured environments into the registry at start and again on every `SIGHUP`
/// (which `vice env reload` sends), logging each file that failed. The outcome of each load goes
/// to a status file next to the pid file, where `vice env reload` reads what the server saw (the
/// server's environment variables, not the command's, resolve `${VAR}`).
final class EnvironmentReloader: Service {
    private let loader: EnvironmentLoader
    private let registry: Registry
    private let logger: Logger
    private let statusPath: String

    init(configurationPath: String, statusPath: String, registry: Registry, logger: Logger) {
        loader = EnvironmentLoader(configurationPath: configurationPath)
        self.statusPath = statusPath
        self.registry = registry
        self.logger = logger
        // A SIGHUP before the service group traps it must not end the process.
        signal(SIGHUP, SIG_IGN)
    }

    /// Reloads the files on each SIGHUP until the service group shuts down. (The first load
    /// happens before the server serves: `reload(reason: "start")`.)
    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            reload(reason: "SIGHUP")
        }
    }

    func reload(reason: String) {
        let outcome = loader.load()
        for problem in outcome.problems {
            logger.error("environment configuration: \(problem)")
        }
        registry.replaceConfiguredEnvironments(outcome.environments)
        let status = ReloadStatus(token: UUID().uuidString, environments: outcome.environments.map(\.id), problems: outcome.problems)
        do {
            try status.write(to: statusPath)
        } catch {
            logger.warning("cannot write the reload status \(statusPath): \(error)")
        }
        logger.notice("configured environments loaded (\(reason)): \(outcome.environments.map(\.id).joined(separator: ", "))",
                      metadata: ["count": "\(outcome.environments.count)", "problems": "\(outcome.problems.count)"])
    }
}

/// What the server made of the environment files at its last load (`<pid file>.reload`).
struct ReloadStatus: Codable {
    /// New on every load, so that `vice env reload` can tell when its request was answered.
    var token: String
    var environments: [String]
    var problems: [String]

    static func path(forPidFile pidFile: String) -> String { pidFile + ".reload" }

    func write(to path: String) throws {
        try JSONEncoder().encode(self).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func read(_ path: String) -> ReloadStatus? {
        (try? Data(contentsOf: URL(fileURLWithPath: path))).flatMap { try? JSONDecoder().decode(ReloadStatus.self, from: $0) }
    }
}
