import Testing

/// Suites that need more than the process they run in carry a tag, so that
/// `swift test --skip tag:docker` (or `--filter tag:…`) picks them out.
extension Tag {
    /// The suite needs the private Docker engine that script/test starts (VICE_TEST_DOCKER_SOCKET).
    @Tag static var docker: Self
}
