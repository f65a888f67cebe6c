import ArgumentParser
import Foundation
import Logging
import ViceConfig
import ViceCore

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage registry users.", subcommands: [Add.self, Passwd.self, List.self, Token.self])

    /// Reads a password from VICE_PASSWORD or the first line of standard input; never from argv,
    /// where other users of the machine could see it.
    static func readPassword() throws -> String {
        if let password = ProcessInfo.processInfo.environment["VICE_PASSWORD"], !password.isEmpty {
            return password
        }
        if isatty(STDIN_FILENO) != 0 {
            guard let pointer = getpass("Password: ") else { throw ValidationError("no password given") }
            return String(cString: pointer)
        }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else {
            throw ValidationError("no password given: set VICE_PASSWORD or pipe it on standard input")
        }
        return line
    }

    static func open(_ options: ConfigOption) async throws -> Registry {
        let configuration: ViceConfiguration
        do {
            configuration = try RegistryAssembly.loadConfiguration(options.config)
        } catch let error as ExitCodeError {
            throw ExitCode(error.code)
        }
        var logger = Logger(label: "vice")
        logger.logLevel = .warning
        return try await RegistryAssembly(configuration: configuration, logger: logger).registry
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user (password from VICE_PASSWORD or standard input).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user name.") var username: String
        @Option(help: "E-mail address.") var email: String?
        @Option(help: "Full name.") var fullname: String?
        @Flag(help: "May manage other users.") var admin = false

        func run() async throws {
            let registry = try await UserCommand.open(options)
            let password = try UserCommand.readPassword()
            let user = try await runReportingErrors {
                try await registry.addUser(username: username, password: password, email: email, fullname: fullname, admin: admin)
            }
            print("added user \(user.username) (id \(user.id))\(user.isAdmin ? " as admin" : "")")
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a user's password (from VICE_PASSWORD or standard input).")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user name.") var username: String

        func run() async throws {
            let registry = try await UserCommand.open(options)
            let password = try UserCommand.readPassword()
            try await runReportingErrors { try await registry.setPassword(username: username, password: password) }
            print("password of \(username) changed")
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API token for a user (printed once), for scripts and CI pipelines.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The user name.") var username: String
        @Option(help: "What the token is for.") var name: String
        @Option(help: "read, deploy or admin (admins only).") var scope: String = "read"
        @Option(help: "Days until it expires (1-3650).") var days: Int = 90

        func run() async throws {
            let registry = try await UserCommand.open(options)
            guard let scope = TokenScope(rawValue: scope) else { throw ValidationError("--scope is read, deploy or admin") }
            let token = try await runReportingErrors { () -> APIToken in
                guard let user = try await registry.listUsers().first(where: { $0.username.lowercased() == username.lowercased() }) else {
                    throw ViceError.notFound("no user '\(username)'")
                }
                return try await registry.createToken(APIToken(name: name, scope: scope, expiresInDays: days),
                                                      by: Principal(user: user, scope: Registry.passwordScope(of: user)))
            }
            print(token.token ?? "")
            printError("token \(token.id ?? "") (\(scope.rawValue)) for \(username), expires \(token.expiresAt.map { ISO8601DateFormatter().string(from: $0) } ?? "?"); shown only now")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var options: ConfigOption

        func run() async throws {
            let registry = try await UserCommand.open(options)
            for user in try await registry.listUsers() {
                let role = user.isAdmin ? "admin" : "user"
                print([user.id, user.username, role, user.email ?? "", user.fullname ?? ""].joined(separator: "\t"))
            }
        }
    }
}


/// Prints a registry error the way an operator wants to read it, and exits non-zero.
func runReportingErrors<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as ViceError {
        printError("error: \(error.message)")
        throw ExitCode.failure
    }
}
