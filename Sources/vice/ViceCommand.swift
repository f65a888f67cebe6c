import ArgumentParser

/// `vice`: the registry server and its operator commands.
@main
struct ViceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vice",
        abstract: "ViCE Registry: import, store, search and deploy virtual environments.",
        discussion: """
            Server: serve, config, user, migrate, env check|reload. Client (any registry over its API): \
            login, logout, env, image, deploy, deployment, job, stats. Exit codes: 0 done, 1 refused by the \
            server, 2 not authenticated, 3 not found, 4 server unreachable, 5 the job failed, 6 digest \
            mismatch, 64 wrong usage (docs/client.md).
            """,
        subcommands: [ServeCommand.self, ConfigCommand.self, UserCommand.self, MigrateCommand.self,
                      LoginCommand.self, LogoutCommand.self, EnvCommand.self, ImageCommand.self, DeployCommand.self,
                      DeploymentCommand.self, JobCommand.self, StatsCommand.self],
        defaultSubcommand: ServeCommand.self)
}

/// The options every command that opens the registry shares.
struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "The configuration file.")
    var config: String = "config/vice.yaml"
}
