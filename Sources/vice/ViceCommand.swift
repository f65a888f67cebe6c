import ArgumentParser

/// `vice`: the registry server and its operator commands.
@main
struct ViceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vice",
        abstract: "ViCE Registry: import, store, search and deploy virtual environments.",
        subcommands: [ServeCommand.self, ConfigCommand.self, UserCommand.self, EnvCommand.self, MigrateCommand.self],
        defaultSubcommand: ServeCommand.self)
}

/// The options every command that opens the registry shares.
struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "The configuration file.")
    var config: String = "config/vice.yaml"
}
