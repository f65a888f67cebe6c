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

func printError(_ message: String) {
    var stderr = StandardError()
    print(message, to: &stderr)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandleOutput.stderr(string)
    }
}

import Foundation

enum FileHandleOutput {
    static func stderr(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
