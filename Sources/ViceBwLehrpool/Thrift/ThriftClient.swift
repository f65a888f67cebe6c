package import ViceCore
import Foundation

/// Calls over one framed, strict-binary Thrift connection, one at a time.
package actor ThriftClient {
    package static let maxFrame = 30_000_000

    let connection: SocketConnection
    let timeout: Duration
    private var sequenceID: Int32 = 0

    package init(connection: SocketConnection, timeout: Duration = .seconds(60)) {
        self.connection = connection
        self.timeout = timeout
    }

    package static func connect(host: String, port: Int, security: TransportSecurity,
                               timeout: Duration = .seconds(60), egress: EgressPolicy? = nil) async throws -> ThriftClient {
        ThriftClient(connection: try await SocketConnection.connect(host: host, port: port, security: security, egress: egress),
                     timeout: timeout)
    }

    /// Calls `method` with its argument struct; returns field 0 of the result (nil for void), or
    /// throws the declared exception (`exceptions`: result field id → kind) or the server's
    /// TApplicationException.
    @discardableResult
    package func call(_ method: String, _ arguments: ThriftStruct, exceptions: [Int16: ThriftException] = [:]) async throws -> ThriftValue? {
        sequenceID &+= 1
        let message = ThriftBinary.message(.call, name: method, sequenceID: sequenceID, body: arguments)
        var frame: [UInt8] = []
        ThriftBinary.append(Int32(message.count), to: &frame)
        try await connection.send(frame + message)

        let length = Int(try await connection.receiveInteger(Int32.self, timeout: timeout))
        guard length > 0, length <= Self.maxFrame else { throw ThriftError.protocolError("a frame of \(length) bytes") }
        let reply = try ThriftBinary.readMessage(try await connection.receive(exactly: length, timeout: timeout))
        guard reply.name == method, reply.sequenceID == sequenceID else {
            throw ThriftError.protocolError("the reply is for \(reply.name) #\(reply.sequenceID), not \(method) #\(sequenceID)")
        }
        if reply.type == .exception {
            throw ThriftError.application(type: reply.body.i32(2) ?? 0, message: reply.body.string(1) ?? "")
        }
        guard reply.type == .reply else { throw ThriftError.protocolError("message type \(reply.type) in a reply") }
        for (id, value) in reply.body.fields where id != 0 {
            if let kind = exceptions[id], case .structure(let s) = value { throw kind.error(s) }
        }
        return reply.body[0]
    }

    package func close() {
        connection.close()
    }
}
