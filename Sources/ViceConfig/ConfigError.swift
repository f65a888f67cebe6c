/// A configuration problem, located in its file.
package struct ConfigError: Error, Sendable, CustomStringConvertible {
    package var file: String
    package var mark: SourceMark?
    package var reason: String

    package init(file: String, mark: SourceMark?, reason: String) {
        self.file = file
        self.mark = mark
        self.reason = reason
    }

    /// `file:line:column: reason`, the form editors and terminals link to.
    package var description: String {
        if let mark { return "\(file):\(mark.line):\(mark.column): \(reason)" }
        return "\(file): \(reason)"
    }
}
