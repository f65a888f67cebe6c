public import Foundation

/// Converts disk images between formats, for deployments into environments that cannot take the
/// image's format (bwLehrpool wants VMDK). The registry's original image is never changed: the
/// converter writes a new file, which the export job streams and deletes.
public protocol DiskConverter: Sendable {
    func canConvert(from: ContentType, to: ContentType) -> Bool
    /// Writes `input` (of format `from`) as `to` into `output` (which does not exist yet).
    func convert(_ input: URL, from: ContentType, to: ContentType, output: URL) async throws
}
