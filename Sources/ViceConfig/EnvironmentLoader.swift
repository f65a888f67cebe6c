import Foundation
package import ViceCore

/// Loads the environments the configuration declares — `environments:` of the main file and every
/// `*.yaml` / `*.yml` file of `environmentsDirectory` — at start and again on each reload. A file
/// that fails is reported with file, line and reason, and the environments it declared when it was
/// last fine stay in service; the other files are not affected.
package final class EnvironmentLoader: @unchecked Sendable {
    /// The outcome of one load.
    package struct Outcome: Sendable {
        package var environments: [ConfiguredEnvironment]
        /// `file:line:column: reason` for each file that failed, and for duplicated ids.
        package var problems: [String]
    }

    package let configurationPath: String
    private let environment: [String: String]
    /// What relative `environmentsDirectory` paths are taken from (the server's directory).
    private let workingDirectory: String?
    private let lock = NSLock()
    /// The last good environments of each file.
    private var lastGood: [String: [EnvironmentDefinition]] = [:]

    package init(configurationPath: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                workingDirectory: String? = nil) {
        self.configurationPath = configurationPath
        self.environment = environment
        self.workingDirectory = workingDirectory
    }

    /// Reads every file again.
    package func load() -> Outcome {
        lock.lock()
        defer { lock.unlock() }
        var problems: [String] = []
        var files: [(String, [EnvironmentDefinition])] = []
        let decoder = YAMLDecoder(environment: environment)

        var directory: String?
        do {
            let main = try decoder.decode(ViceConfiguration.self, fromFile: configurationPath)
            lastGood[configurationPath] = main.environments
            directory = main.environmentsDirectory.map { path in
                guard let base = workingDirectory, !path.hasPrefix("/") else { return path }
                return (base as NSString).appendingPathComponent(path)
            }
        } catch {
            problems.append(String(describing: error))
            directory = nil
        }
        files.append((configurationPath, lastGood[configurationPath] ?? []))

        var seen: Set<String> = [configurationPath]
        if let directory {
            let listing = try? FileManager.default.contentsOfDirectory(atPath: directory)
            if listing == nil { problems.append("\(directory): the environments directory cannot be read") }
            let names = (listing ?? []).filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }.sorted()
            for name in names {
                let path = (directory as NSString).appendingPathComponent(name)
                seen.insert(path)
                do {
                    lastGood[path] = try decoder.decode(EnvironmentFile.self, fromFile: path).environments
                } catch {
                    problems.append(String(describing: error) + (lastGood[path] == nil ? "" : " (its previous environments stay)"))
                }
                files.append((path, lastGood[path] ?? []))
            }
        }
        // A file that is gone takes its environments with it.
        for path in lastGood.keys where !seen.contains(path) { lastGood[path] = nil }

        var environments: [ConfiguredEnvironment] = []
        var owners: [String: String] = [:]
        for (path, definitions) in files {
            for definition in definitions {
                if let first = owners[definition.id] {
                    problems.append("\(path): environment id '\(definition.id)' is already declared in \(first); this one is ignored")
                    continue
                }
                owners[definition.id] = path
                environments.append(definition.configured(source: path))
            }
        }
        return Outcome(environments: environments, problems: problems)
    }
}
