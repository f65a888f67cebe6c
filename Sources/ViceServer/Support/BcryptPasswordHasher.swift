import HummingbirdBcrypt
import NIOPosix
import ViceCore

/// bcrypt on NIO's blocking thread pool: hashing is deliberately slow and must not occupy the
/// cooperative pool or an event loop.
public struct BcryptPasswordHasher: PasswordHasher {
    public let cost: UInt8

    public init(cost: Int = 12) {
        self.cost = UInt8(clamping: cost)
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
