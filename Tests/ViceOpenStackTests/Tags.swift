import Testing

/// Suites that need more than the process they run in carry a tag, so that
/// `swift test --skip tag:docker` (or `--filter tag:…`) picks them out.
extension Tag {
    /// The suite needs the Keystone + Glance testbed that script/test starts.
    @Tag static var openstack: Self
}
