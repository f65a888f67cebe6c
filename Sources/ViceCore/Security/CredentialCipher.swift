import Crypto
import Foundation

/// Encrypts environment credentials at rest with AES-256-GCM. The key lives in a file of its own
/// (0600), outside the database, so a copied database alone reveals no password.
public struct CredentialCipher: Sendable {
    private let key: SymmetricKey

    public init(key: SymmetricKey) {
        self.key = key
    }

    /// Loads the key from `path`, creating a fresh random key there (mode 0600) when none exists.
    public static func loadOrCreate(keyFile path: String) throws -> CredentialCipher {
        let fm = FileManager.default
        if fm.fileExists(atPath: path) {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let raw = Data(base64Encoded: text), raw.count == 32 else {
                throw ViceError(.internal, "credential key file \(path) does not hold a base64 256-bit key")
            }
            return CredentialCipher(key: SymmetricKey(data: raw))
        }
        let key = SymmetricKey(size: .bits256)
        let encoded = key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        guard fm.createFile(atPath: path, contents: Data(encoded.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ViceError(.internal, "cannot write credential key file \(path)")
        }
        return CredentialCipher(key: key)
    }

    public func seal(_ plaintext: Data) throws -> Data {
        guard let combined = try AES.GCM.seal(plaintext, using: key).combined else {
            throw ViceError(.internal, "AES-GCM produced no combined box")
        }
        return combined
    }

    public func open(_ sealed: Data) throws -> Data {
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key)
        } catch {
            throw ViceError(.internal, "stored credentials cannot be decrypted with the configured key")
        }
    }

    public func seal<T: Encodable>(json value: T) throws -> Data {
        try seal(JSONEncoder().encode(value))
    }

    public func open<T: Decodable>(json type: T.Type, from sealed: Data) throws -> T {
        try JSONDecoder().decode(type, from: open(sealed))
    }
}
