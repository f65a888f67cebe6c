/// A configuration problem, located in its file.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var mark: SourceMark?
    public var reason: String

    public init(file: String, mark: SourceMark?, reason: String) {
        self.file = file
        self.mark = mark
        self.reason = reason
    }

    /// `file:line:column: reason`, the form editors and terminals link to.
    public var description: String {
        if let mark { return "\(file):\(mark.line):\(mark.column): \(reason)" }
        return "\(file): \(reason)"
    }
}
