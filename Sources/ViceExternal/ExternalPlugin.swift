import Foundation
package import Logging
package import ViceCore
import ViceHTTP

/// One external adapter process, reached on its unix socket. The handshake runs in the
/// background and is retried with backoff (1 s doubling to 60 s) while the plugin is down, and
/// repeated every 30 s while it is up, so a restarted plugin's new capabilities are seen. Start-up
/// never waits for it; until it answers, the plugin's environments are unhealthy and say why.
package final class ExternalPlugin: Sendable {
    package let kind: String
    package let socketPath: String
    let client = HTTPClient()
    private let state = LockedBox<State>(State())
    private let logger: Logger

    struct State {
        var handshake: ExternalProtocol.Handshake?
        var problem = "not contacted yet"
        var monitor: Task<Void, Never>?
    }

    package init(kind: String, socketPath: String, logger: Logger) {
        self.kind = kind.lowercased()
        self.socketPath = socketPath
        self.logger = logger
    }

    /// The factory to register in the catalog.
    package var factory: AdapterFactory {
        AdapterFactory(kind: kind, descriptor: { [self] in descriptor }) { [self] environment, context in
            ExternalAdapter(plugin: self, environment: environment, logger: context.logger, progress: context.progress)
        }
    }

    /// What the last handshake said, or an empty descriptor that says why there is none.
    package var descriptor: AdapterDescriptor {
        let (handshake, problem) = state.withLock { ($0.handshake, $0.problem) }
        guard let handshake else {
            return AdapterDescriptor(kind: kind, version: "unknown", summary: "external plugin at \(socketPath): \(problem)",
                                     capabilities: AdapterCapabilities(imports: [], deploys: []))
        }
        return AdapterDescriptor(kind: kind, version: handshake.version,
                                 summary: handshake.summary ?? "external plugin at \(socketPath)",
                                 capabilities: handshake.capabilities, maintainers: handshake.maintainers ?? [])
    }

    /// Why the plugin cannot be used now, or nil when its handshake succeeded.
    var unavailability: String? {
        state.withLock { $0.handshake == nil ? $0.problem : nil }
    }

    /// nil when the plugin can be used: it answered its handshake before, or answers it now
    /// (callers need not wait for the next background retry); else why not.
    func reachabilityProblem() async -> String? {
        guard unavailability != nil else { return nil }
        return await handshake() ? nil : unavailability
    }

    /// Starts the background handshakes.
    /// Keeps the plugin's handshake current until cancelled: every 30 s while it answers, with
    /// backoff from 1 s to 60 s while it does not. The server runs it as a service.
    package func monitor() async {
        var delay = Duration.seconds(1)
        while !Task.isCancelled {
            if await handshake() {
                delay = .seconds(1)
                try? await Task.sleep(for: .seconds(30))
            } else {
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(60))
            }
        }
    }

    /// Runs `monitor()` in a task of its own (for callers without a service group); returns at once.
    package func startMonitoring() {
        let task = Task { [self] in await monitor() }
        state.withLock { $0.monitor = task }
    }

    package func stopMonitoring() {
        state.withLock { $0.monitor?.cancel() }
    }

    /// Asks the plugin who it is; true when it answered as a `vice-adapter/1` plugin of our kind.
    @discardableResult
    package func handshake() async -> Bool {
        let problem: String
        do {
            let response = try await client.execute(HTTPClientRequest(url: "http://plugin/v1/adapter", options: options))
            let bytes = try await response.collect(upTo: 1 << 20)
            let answer = try JSONDecoder().decode(ExternalProtocol.Handshake.self, from: Data(bytes))
            if response.status != 200 {
                problem = "the handshake answered HTTP \(response.status)"
            } else if answer.protocol != ExternalProtocol.version {
                problem = "the plugin speaks \(answer.protocol), this registry speaks \(ExternalProtocol.version)"
            } else if answer.kind.lowercased() != kind {
                problem = "the plugin serves '\(answer.kind)', but it is configured for '\(kind)'"
            } else {
                let wasDown = state.withLock { state -> Bool in
                    defer { state.handshake = answer; state.problem = "" }
                    return state.handshake == nil
                }
                if wasDown { logger.notice("external adapter \(kind) is up: \(answer.summary ?? "") \(answer.version)") }
                return true
            }
        } catch let error as HTTPClientError {
            problem = "not reachable on \(socketPath): \(error.message)"
        } catch {
            problem = "its handshake cannot be read: \(error)"
        }
        let wasUp = state.withLock { state -> Bool in
            defer { state.handshake = nil; state.problem = problem }
            return state.handshake != nil
        }
        if wasUp { logger.warning("external adapter \(kind) is down: \(problem)") }
        return false
    }

    var options: HTTPConnectionOptions {
        HTTPConnectionOptions(unixSocketPath: socketPath, connectTimeout: .seconds(5), idleTimeout: .seconds(300))
    }
}
