import Foundation
import Testing
@testable import ViceBwLehrpool
import ViceCore

/// The binary protocol codec, byte for byte (the wire format of shared/reference/bwlehrpool.md §3).
@Suite struct ThriftBinaryTests {
    @Test func aCallIsFramedWithAStrictHeaderAndFieldsInTheGivenOrder() throws {
        let body = ThriftStruct([(1, .string("tok")), (23, .bool(true)), (4, .i64(-2))])
        let bytes = ThriftBinary.message(.call, name: "ping", sequenceID: 7, body: body)
        #expect(Array(bytes.prefix(4)) == [0x80, 0x01, 0x00, 0x01])
        #expect(Array(bytes[4..<12]) == [0, 0, 0, 4] + Array("ping".utf8))
        #expect(Array(bytes[12..<16]) == [0, 0, 0, 7])
        // 1: string "tok", 23: bool true, 4: i64 -2, STOP — in that order, not sorted.
        #expect(Array(bytes[16...]) == [11, 0, 1, 0, 0, 0, 3] + Array("tok".utf8) + [2, 0, 23, 1]
            + [10, 0, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe] + [0])
        let decoded = try ThriftBinary.readMessage(bytes)
        #expect(decoded.name == "ping" && decoded.sequenceID == 7 && decoded.type == .call && decoded.body == body)
    }

    @Test func readersSkipNothingTheyDoNotKnowAndTolerateAbsentFields() throws {
        // An ImageVersionDetails with an unknown field 99 (a map) and without most fields.
        var out: [UInt8] = []
        ThriftBinary.write(.structure(ThriftStruct([
            (99, .map(key: .string, value: .list, [.string("k"), .list(.i32, [.i32(1), .i32(2)])])),
            (1, .string("v1")), (4, .i64(123)),
            (10, .set(.string, [.string("a")])), (7, .double(1.5)),
        ])), to: &out)
        var reader = ThriftBinary.Reader(bytes: out)
        guard case .structure(let s) = try reader.value(.structure, depth: 0) else { Issue.record("no struct"); return }
        let version = ImageVersionDetails(s)
        #expect(version.versionId == "v1" && version.fileSize == 123 && version.isValid == nil)
        #expect(s[99] != nil && s.strings(10) == ["a"])
    }

    /// A peer that claims millions of elements in a few bytes gets an error at once, before any
    /// memory is set aside for them.
    @Test func containerCountsAreCheckedAgainstTheBytesLeft() throws {
        for type: UInt8 in [15, 14, 13] {   // list, set, map
            var bytes: [UInt8] = type == 13 ? [8, 8] : [8]   // element (key, value) type i32
            ThriftBinary.append(Int32(10_000_000), to: &bytes)
            bytes += [0, 0, 0, 1]
            var reader = ThriftBinary.Reader(bytes: bytes)
            #expect {
                _ = try reader.value(ThriftType(rawValue: type)!, depth: 0)
            } throws: { "\($0)".contains("claims 10000000 elements") }
        }
    }

    /// The name is resolved once and the address checked is the one connected to.
    @Test func connectionsObeyTheEgressPolicy() async throws {
        await #expect {
            _ = try await SocketConnection.connect(host: "localhost", port: 9, security: .plain, egress: EgressPolicy())
        } throws: { error in
            (error as? SocketConnection.Failure)?.isRefusal == true && "\(error)".contains("loopback")
        }
        await #expect {
            _ = try await SocketConnection.connect(host: "169.254.169.254", port: 9091, security: .plain, egress: .trusted)
        } throws: { "\($0)".contains("link-local") }
    }

    @Test func blockTransferRangesAreBounded() {
        #expect(BlockTransfer.parseRange("0:16777216") == 0..<16_777_216)
        #expect(BlockTransfer.parseRange("0:16777217") == nil)              // more than one block at once
        #expect(BlockTransfer.parseRange("0:9223372036854775807") == nil)
    }

    @Test func malformedOrOversizedInputIsRefused() {
        #expect(throws: ThriftError.self) { try ThriftBinary.readMessage([0x00, 0x00, 0x00, 0x01]) }   // not strict
        var huge: [UInt8] = [0x80, 0x01, 0x00, 0x02, 0, 0, 0, 1, 0x61, 0, 0, 0, 1, 11, 0, 0]
        ThriftBinary.append(Int32(13 << 20), to: &huge)   // a 13 MiB string
        #expect(throws: ThriftError.self) { try ThriftBinary.readMessage(huge) }
        let truncated = Array(ThriftBinary.message(.reply, name: "x", sequenceID: 1, body: ThriftStruct([(0, .string("abc"))])).dropLast(3))
        #expect(throws: ThriftError.self) { try ThriftBinary.readMessage(truncated) }
    }

    @Test func lz4FramesRoundTripAndStayRawWhenCompressionDoesNotPay() throws {
        let text = [UInt8](repeating: UInt8(ascii: "x"), count: 1_200_000)
        let random = (0..<600_000).map { _ in UInt8.random(in: 0...255) }
        let compressed = BlockTransfer.frames(text[...])
        #expect(compressed.count < 20_000)
        // Frames of at most 500,000 bytes: the first header says so.
        #expect(Array(compressed.prefix(4)) == [0x00, 0x07, 0xA1, 0x20])
        let raw = BlockTransfer.frames(random[...])
        #expect(raw.count == random.count + 16)   // two frames, each stored raw with its 8-byte header
        #expect(Array(raw[0..<4]) == Array(raw[4..<8]))
        let decoded = try BlockTransfer.decompress(Array(compressed[8..<(8 + Int(UInt32(compressed[4]) << 24 | UInt32(compressed[5]) << 16 | UInt32(compressed[6]) << 8 | UInt32(compressed[7])))]), to: 500_000)
        #expect(decoded == Array(text.prefix(500_000)))
    }

    @Test func metaBlocksAreUTFStringsEndedByAnEmptyOne() {
        #expect(BlockTransfer.meta([("RANGE", "0:16")]) == [0, 10] + Array("RANGE=0:16".utf8) + [0, 0])
        #expect(BlockTransfer.parseRange("16777216:33554432") == 16_777_216..<33_554_432)
        #expect(BlockTransfer.parseRange("5:5") == nil && BlockTransfer.parseRange("-1:4") == nil && BlockTransfer.parseRange("x") == nil)
        #expect(BlockTransfer.range(ofBlock: 2, size: 40 << 20) == Int64(32 << 20)..<Int64(40 << 20))
        #expect(BlockTransfer.blockCount(size: (32 << 20) + 1) == 3)
    }
}
