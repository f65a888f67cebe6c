/// Text that came from a remote system (an error message a cloud sent), made fit to show a
/// caller: printable characters only, at most a few hundred of them. Remote systems are chosen by
/// users, so their answers are never echoed whole.
public enum RemoteText {
    public static func excerpt(_ text: String, limit: Int = 300) -> String {
        let printable = text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) }
        let collapsed = String(printable).split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
        return collapsed.count > limit ? String(collapsed.prefix(limit)) + "…" : collapsed
    }
}
