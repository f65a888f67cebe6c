import Foundation
import Hummingbird
import Testing
import ViceCore
@testable import ViceServer

/// The streaming multipart parser: the file field's bytes exactly, however the body is cut into
/// chunks, and clear errors for broken bodies.
@Suite struct MultipartFileTests {
    struct Chunks: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let chunks: [[UInt8]]
        struct AsyncIterator: AsyncIteratorProtocol {
            var rest: [[UInt8]]
            mutating func next() async throws -> ByteBuffer? {
                guard !rest.isEmpty else { return nil }
                return ByteBuffer(bytes: rest.removeFirst())
            }
        }
        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(rest: chunks) }
    }

    static let boundary = "----vice-boundary-7MA4YWxk"

    static func body(file: [UInt8], field: String = "upfile", epilogue: String = "") -> [UInt8] {
        var body = Array("preamble to ignore\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nabc\r\n".utf8)
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"d.img\"\r\n".utf8)
        body += Array("Content-Type: application/octet-stream\r\n\r\n".utf8)
        body += file
        body += Array("\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"after\"\r\n\r\nx\r\n--\(boundary)--\r\n\(epilogue)".utf8)
        return body
    }

    static func parse(_ body: [UInt8], chunkSize: Int) async throws -> (bytes: [UInt8], found: Bool) {
        let chunks = stride(from: 0, to: body.count, by: chunkSize).map { Array(body[$0..<min($0 + chunkSize, body.count)]) }
        let found = MultipartFile<Chunks>.FoundFlag()
        var bytes: [UInt8] = []
        for try await buffer in MultipartFile(base: Chunks(chunks: chunks), boundary: boundary, field: "upfile", found: found) {
            bytes += buffer.readableBytesView
        }
        return (bytes, found.value)
    }

    @Test(arguments: [1, 2, 3, 7, 13, 64, 1000, 1 << 20])
    func theFileComesOutWholeHoweverTheBodyIsCut(_ chunkSize: Int) async throws {
        // Content that looks like the delimiter's start, and CRLFs, must pass through.
        let file = Array("\r\n--\r\n----vice-boundary-7MA4YWx\r\n".utf8) + (0..<3000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let (bytes, found) = try await Self.parse(Self.body(file: file, epilogue: "trailing junk"), chunkSize: chunkSize)
        #expect(found)
        #expect(bytes == file)
    }

    @Test func anEmptyFileIsFoundAndEmpty() async throws {
        let (bytes, found) = try await Self.parse(Self.body(file: []), chunkSize: 5)
        #expect(found && bytes.isEmpty)
    }

    @Test func aFormWithoutTheFieldFindsNothing() async throws {
        let (bytes, found) = try await Self.parse(Self.body(file: [1, 2, 3], field: "other"), chunkSize: 11)
        #expect(!found && bytes.isEmpty)
    }

    @Test func aBodyCutBeforeItsClosingBoundaryIsABadRequest() async throws {
        let whole = Self.body(file: Array(repeating: 9, count: 500))
        await #expect { try await Self.parse(Array(whole.prefix(whole.count - 40)), chunkSize: 17) } throws: {
            ($0 as? ViceError)?.code == .badRequest
        }
    }

    @Test(arguments: [
        ("multipart/form-data; boundary=abc", "abc"), ("multipart/form-data; boundary=\"a b\"", "a b"),
        ("Multipart/Form-Data;charset=utf-8; boundary=xyz", "xyz"),
    ])
    func boundariesAreReadFromTheContentType(_ contentType: String, _ expected: String) throws {
        #expect(try MultipartFile<Chunks>.boundary(of: contentType) == expected)
    }

    @Test func otherTypesHaveNoBoundaryAndAMissingOneIsRefused() throws {
        #expect(try MultipartFile<Chunks>.boundary(of: "application/octet-stream") == nil)
        #expect(throws: ViceError.self) { try MultipartFile<Chunks>.boundary(of: "multipart/form-data") }
        #expect(throws: ViceError.self) {
            try MultipartFile<Chunks>.boundary(of: "multipart/form-data; boundary=" + String(repeating: "b", count: 71))
        }
    }
}
