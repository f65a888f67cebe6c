import ArgumentParser
import Foundation
import ViceConfig

#if canImport(Glibc)
import Glibc
import ViceCore
#endif

/// `vice env`: a registry's environments (client commands), and the environments the
/// configuration declares (`check`, `reload`, for the operator on the server's machine).
struct EnvCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env", abstract: "Execution environments: list, show, create, delete, health, images; check and reload the configured ones.",
        subcommands: [EnvList.self, EnvShow.self, EnvCreate.self, EnvDelete.self, EnvHealth.self, EnvImages.self, Check.self, Reload.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the environment files and list what they declare.")
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let outcome = EnvironmentLoader(configurationPath: options.config).load()
            for environment in outcome.environments {
                let users = environment.users.map { $0.sorted().joined(separator: ",") } ?? "all users"
                print("\(environment.id)\t\(environment.environment.adapterKind ?? "?")\t\(users)\t\(environment.source)")
            }
            outcome.problems.forEach(printError)
            if !outcome.problems.isEmpty { throw ExitCode(2) }
        }
    }

    struct Reload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the environment files, then make the running server (its pid file) load them again.")
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let pidFile = (try? ViceConfiguration.load(path: options.config))?.pidFile ?? ViceConfiguration().pidFile
            guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                  let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else {
                printError("no running server: cannot read its pid from \(pidFile)")
                throw ExitCode(1)
            }
            let statusPath = ReloadStatus.path(forPidFile: pidFile)
            let before = ReloadStatus.read(statusPath)?.token
            guard kill(pid, SIGHUP) == 0 else {
                printError("cannot signal the server (pid \(pid)): \(String(cString: strerror(errno)))")
                throw ExitCode(1)
            }
            // The server answers by writing a new status: what it loaded and what failed.
            for _ in 0..<300 {
                if let status = ReloadStatus.read(statusPath), status.token != before {
                    status.problems.forEach(printError)
                    print("the server (pid \(pid)) reloaded: \(status.environments.count) environments (\(status.environments.joined(separator: ", ")))"
                        + (status.problems.isEmpty ? "" : "; files with problems keep their previous environments"))
                    if !status.problems.isEmpty { throw ExitCode(2) }
                    return
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            printError("the server (pid \(pid)) did not confirm the reload within 15 s; see its log")
            throw ExitCode(1)
        }
    }
}
