import Testing

/// Suites that need more than the process they run in carry a tag, so that
/// `swift test --skip tag:docker` (or `--filter tag:…`) picks them out.
extension Tag {
    /// The suite starts the built `vice` executable.
    @Tag static var process: Self
}
