/// The script and the style sheet, embedded in the binary at build time.
enum DashboardAssets {
    static var script: [UInt8] { PackageResources.dashboard_js }
    static var style: [UInt8] { PackageResources.dashboard_css }
}
