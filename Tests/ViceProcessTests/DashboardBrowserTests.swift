import Foundation
import Testing
import ViceTestSupport

/// The dashboard in headless Chromium (Selenium with Debian's chromedriver) against a real
/// server process: `Browser/dashboard_test.py` drives it as a person would. `script/test`
/// installs both; without them this fails, never skips. With `VICE_SCREENSHOTS=DIR` the script
/// saves screenshots of the main pages there (`docs/screenshots/` holds the committed ones).
@Suite(.serialized, .tags(.process)) struct DashboardBrowserTests {
    @Test func signInUploadDeploySearchAndSignOutInARealBrowserAndAnotherUserSeesNoneOfIt() async throws {
        let directory = try TemporaryDirectory()
        try ServerProcess.writeConfiguration(in: directory.url)
        let server = try await ServerProcess(directory: directory.url)
        let file = directory.url.appendingPathComponent("browser-disk.img")
        _ = try randomFile(file, megabytes: 3)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Browser/dashboard_test.py")
        var arguments = [script.path, "http://127.0.0.1:\(server.port)", "admin-password", file.path]
        if let shots = ProcessInfo.processInfo.environment["VICE_SCREENSHOTS"] { arguments.append(shots) }
        let (status, output) = try await BlockingRun.run("python3", arguments)
        #expect(status == 0, "\(output)")
        #expect(output.contains("dashboard: all checks passed"), "\(output)")
    }
}
