import Foundation
import ArgumentParser
import ViceConfig

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Work with configuration files.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Validate a configuration file without starting anything.")

        @Argument(help: "The configuration file to check.")
        var file: String

        func run() async throws {
            do {
                _ = try ViceConfiguration.load(path: file)
                print("\(file): OK")
            } catch let error as ConfigError {
                printError(error.description)
                throw ExitCode(2)
            }
        }
    }
}

/// One line on standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
