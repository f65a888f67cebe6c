/// Server-assigned, unguessable identifiers: 20 characters of `[a-zA-Z0-9]` (about 119 bits)
/// from the system's cryptographic generator. The original drew 6 characters from an unseeded
/// PRNG whose sequence repeated after every restart.
public enum IDGenerator {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    public static func make(length: Int = 20) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }

    /// Whether `text` could be an id at all (keeps junk out of queries and logs).
    public static func isPlausible(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 64 && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}
