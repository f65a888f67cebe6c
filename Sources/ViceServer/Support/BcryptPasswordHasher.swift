import HummingbirdBcrypt
import NIOPosix
import ViceCore

/// bcrypt on NIO's blocking thread pool: hashing is deliberately slow and must not occupy the
/// cooperative pool or an event loop.
package struct BcryptPasswordHasher: PasswordHasher {
    package let cost: UInt8

    package init(cost: Int = 12) {
        self.cost = UInt8(clamping: cost)
    }

    package func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    package func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
