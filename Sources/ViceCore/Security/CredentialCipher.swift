package import Crypto
package import Foundation

/// Encrypts environment credentials at rest with AES-256-GCM. The key lives in a file of its own
/// (0600), outside the database, so a copied database alone reveals no password.
package struct CredentialCipher: Sendable {
    private let key: SymmetricKey

    package init(key: SymmetricKey) {
        self.key = key
    }

    /// Loads the key from `path`, creating a fresh random key there (mode 0600, in a 0700 folder
    /// when it makes the folder) when none exists. A key file others may read stops start-up.
    package static func loadOrCreate(keyFile path: String) throws -> CredentialCipher {
        var info = stat()
        if lstat(path, &info) == 0 {
            let data = try SecretFile.read(path)
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let raw = Data(base64Encoded: text), raw.count == 32 else {
                throw ViceError(.internal, "credential key file \(path) does not hold a base64 256-bit key")
            }
            return CredentialCipher(key: SymmetricKey(data: raw))
        }
        let key = SymmetricKey(size: .bits256)
        let encoded = key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
        try SecretFile.create(path, contents: Data(encoded.utf8))
        return CredentialCipher(key: key)
    }

    package func seal(_ plaintext: Data) throws -> Data {
        guard let combined = try AES.GCM.seal(plaintext, using: key).combined else {
            throw ViceError(.internal, "AES-GCM produced no combined box")
        }
        return combined
    }

    package func open(_ sealed: Data) throws -> Data {
        do {
            return try AES.GCM.open(AES.GCM.SealedBox(combined: sealed), using: key)
        } catch {
            throw ViceError(.internal, "stored credentials cannot be decrypted with the configured key")
        }
    }

    package func seal<T: Encodable>(json value: T) throws -> Data {
        try seal(JSONEncoder().encode(value))
    }

    package func open<T: Decodable>(json type: T.Type, from sealed: Data) throws -> T {
        try JSONDecoder().decode(type, from: open(sealed))
    }
}
