import Crypto
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
package import ViceCore

/// How to secure a connection: plain TCP, or TLS with the certificate pinned by its SHA-256,
/// verified against the system's roots, or (explicitly asked for) not verified at all.
package enum TransportSecurity: Sendable, Equatable {
    case plain
    case pinned(sha256: [UInt8])
    /// Chain and host name verified against the system's roots, or the CA certificates in a file.
    case verified(caBundle: String?)
    case insecure
}

/// A TCP (or TLS) connection on SwiftNIO with the reads a request/response protocol needs:
/// exactly n bytes, within a timeout. Bytes that arrive early are kept; a read fails when the
/// peer closes or the time is up.
package final class SocketConnection: Sendable {
    package struct Failure: Error, Sendable, CustomStringConvertible {
        package var description: String
        package var isTimeout: Bool
        /// The egress policy refused the address: retrying cannot help.
        package var isRefusal = false
    }

    let channel: any Channel
    private let reader: ExactReader
    package let peer: String

    private init(channel: any Channel, reader: ExactReader, peer: String) {
        self.channel = channel
        self.reader = reader
        self.peer = peer
    }

    package static func connect(host: String, port: Int, security: TransportSecurity,
                               connectTimeout: Duration = .seconds(10), egress: EgressPolicy? = nil) async throws -> SocketConnection {
        let reader = ExactReader()
        let sslContext: NIOSSLContext?
        switch security {
        case .plain:
            sslContext = nil
        case .verified(let caBundle):
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let caBundle { configuration.trustRoots = .file(caBundle) }
            sslContext = try NIOSSLContext(configuration: configuration)
        case .pinned:
            // The callback below replaces chain verification; NIOSSL calls it only while
            // verification is on.
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .noHostnameVerification
            sslContext = try NIOSSLContext(configuration: configuration)
        case .insecure:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            sslContext = try NIOSSLContext(configuration: configuration)
        }
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        let handler: NIOSSLClientHandler
                        if case .pinned(let expected) = security {
                            handler = try NIOSSLClientHandler(
                                context: sslContext, serverHostname: nil,
                                customVerificationCallback: { certificates, promise in
                                    let leaf = certificates.first.flatMap { try? $0.toDERBytes() } ?? []
                                    let actual = Array(SHA256.hash(data: leaf))
                                    promise.succeed(actual == expected ? .certificateVerified : .failed)
                                })
                        } else {
                            // IP addresses are checked against the certificate's IP SANs, names against its DNS names.
                            let isAddress = host.contains(":") || host.split(separator: ".").allSatisfy { Int($0) != nil }
                            handler = try NIOSSLClientHandler(context: sslContext, serverHostname: isAddress ? nil : host)
                        }
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try channel.pipeline.syncOperations.addHandler(reader)
                }
            }
        // With a policy, the name is resolved here and the checked address is the one connected
        // to: no second lookup can answer differently (DNS rebinding).
        let target: SocketAddress?
        if let egress {
            target = try await Self.permittedAddress(host: host, port: port, egress: egress)
        } else {
            target = nil
        }
        do {
            let channel = try await (target.map { bootstrap.connect(to: $0) } ?? bootstrap.connect(host: host, port: port)).get()
            return SocketConnection(channel: channel, reader: reader, peer: "\(host):\(port)")
        } catch {
            throw Failure(description: "cannot connect to \(host):\(port): \(error)", isTimeout: false)
        }
    }

    /// The first address `host` resolves to that the policy permits; refuses when none is.
    static func permittedAddress(host: String, port: Int, egress: EgressPolicy) async throws -> SocketAddress {
        let addresses: [SocketAddress]
        do {
            addresses = [try await BlockingIO.run { try SocketAddress.makeAddressResolvingHost(host, port: port) }]
        } catch {
            throw Failure(description: "cannot resolve \(host): \(error)", isTimeout: false)
        }
        var reasons: [String] = []
        for address in addresses {
            let bytes: [UInt8]
            switch address {
            case .v4(let v4): bytes = withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
            case .v6(let v6): bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            default: reasons.append("not an internet address"); continue
            }
            if let reason = egress.refusal(for: bytes) { reasons.append(reason) } else { return address }
        }
        throw Failure(description: "the egress policy refuses \(host): \(reasons.first ?? "no address")", isTimeout: false, isRefusal: true)
    }

    package func send(_ bytes: [UInt8]) async throws {
        do {
            try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
        } catch {
            throw Failure(description: "sending to \(peer) failed: \(error)", isTimeout: false)
        }
    }

    /// Exactly `count` bytes, or a failure when the peer closes or `timeout` passes first.
    package func receive(exactly count: Int, timeout: Duration) async throws -> [UInt8] {
        guard count > 0 else { return [] }
        let promise = channel.eventLoop.makePromise(of: [UInt8].self)
        let reader = self.reader, peer = self.peer
        channel.eventLoop.execute {
            reader.want(count, promise: promise, timeout: timeout, peer: peer)
        }
        return try await promise.futureResult.get()
    }

    package func receiveInteger<I: FixedWidthInteger>(_ type: I.Type, timeout: Duration) async throws -> I {
        var value: I = 0
        for byte in try await receive(exactly: MemoryLayout<I>.size, timeout: timeout) { value = value << 8 | I(truncatingIfNeeded: byte) }
        return value
    }

    package func close() {
        channel.close(promise: nil)
    }

    // A connection nobody holds any more is closed (a consumer that stopped reading a download).
    deinit {
        channel.close(promise: nil)
    }

    /// Shuts our sending side, as Java's `shutdownOutput`.
    package func closeOutput() async {
        try? await channel.close(mode: .output).get()
    }
}

/// Collects inbound bytes and hands out exactly what is asked for. Lives on the channel's event
/// loop: every member is touched there only.
final class ExactReader: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private var buffer = ByteBuffer()
    /// What a peer may send ahead of what is asked for: more is a protocol violation (a peer that
    /// floods the connection must not grow the registry's memory without bound).
    static let maximumBuffered = 64 << 20
    private var pending: (count: Int, promise: EventLoopPromise<[UInt8]>, timer: Scheduled<Void>?)?
    private var closedReason: String?

    func want(_ count: Int, promise: EventLoopPromise<[UInt8]>, timeout: Duration, peer: String) {
        guard pending == nil else {
            promise.fail(SocketConnection.Failure(description: "a read is already waiting on \(peer)", isTimeout: false))
            return
        }
        pending = (count, promise, nil)
        if deliver() { return }
        if let closedReason {
            fail(closedReason, timeout: false)
            return
        }
        let loop = promise.futureResult.eventLoop
        pending?.timer = loop.scheduleTask(in: .nanoseconds(timeout.inNanoseconds)) { [self] in
            fail("no data from \(peer) for \(timeout)", timeout: true)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        _ = deliver()
        if buffer.readableBytes > Self.maximumBuffered {
            closedReason = "the peer sent more than \(Self.maximumBuffered) bytes ahead of what was asked"
            buffer.clear()
            if pending != nil { fail(closedReason!, timeout: false) }
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closedReason = "the peer closed the connection"
        if pending != nil { fail(closedReason!, timeout: false) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closedReason = "the connection failed: \(error)"
        if pending != nil { fail(closedReason!, timeout: false) }
        context.close(promise: nil)
    }

    private func deliver() -> Bool {
        guard let (count, promise, timer) = pending, buffer.readableBytes >= count else { return false }
        pending = nil
        timer?.cancel()
        let bytes = buffer.readBytes(length: count) ?? []
        buffer.discardReadBytes()
        promise.succeed(bytes)
        return true
    }

    private func fail(_ reason: String, timeout: Bool) {
        guard let (_, promise, timer) = pending else { return }
        pending = nil
        timer?.cancel()
        promise.fail(SocketConnection.Failure(description: reason, isTimeout: timeout))
    }
}
