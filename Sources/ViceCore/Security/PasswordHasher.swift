/// Hashes and checks user passwords. The server provides bcrypt; both calls are slow on purpose
/// and run off the cooperative pool.
package protocol PasswordHasher: Sendable {
    func hash(_ password: String) async throws -> String
    func verify(_ password: String, hash: String) async throws -> Bool
}
