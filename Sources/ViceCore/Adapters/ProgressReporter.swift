/// Where a job's work reports how far it got: the phase it is in and the bytes it moved. The
/// registry gives every adapter made for a job one in its `AdapterContext`, counts the bytes of
/// the streams it hands over itself, and shows the result in `GET /v1/jobs/{id}` and as events.
/// Reporting is cheap and never fails; a reporter outside a job ignores everything.
public struct ProgressReporter: Sendable {
    /// One report.
    public enum Update: Sendable, Hashable {
        case phase(JobPhase)
        /// Bytes moved so far of how many (nil: unknown).
        case bytes(done: Int64, total: Int64?)
    }

    private let sink: (@Sendable (Update) -> Void)?

    public init(_ sink: @escaping @Sendable (Update) -> Void) {
        self.sink = sink
    }

    private init() {
        sink = nil
    }

    /// A reporter that ignores what it is told.
    public static let ignored = ProgressReporter()

    public func phase(_ phase: JobPhase) {
        sink?(.phase(phase))
    }

    public func bytes(done: Int64, total: Int64?) {
        sink?(.bytes(done: done, total: total))
    }

    /// The same bytes, reported as they pass (in `phase`, of `total`).
    public func counting(_ stream: ByteStream, phase: JobPhase, total: Int64?) -> ByteStream {
        guard sink != nil else { return stream }
        self.phase(phase)
        bytes(done: 0, total: total)
        return stream.observed { done in bytes(done: done, total: total) }
    }
}
