import Foundation
import Hummingbird
import ViceCore

#if canImport(Glibc)
import Glibc
#endif

/// Streams the content of one file field (`upfile`) out of a `multipart/form-data` body without
/// holding the body in memory: other parts are skipped, and only a delimiter's length of bytes is
/// ever held back between chunks.
struct MultipartFile<Base: AsyncSequence>: AsyncSequence where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer
    let base: Base
    let boundary: String
    let field: String
    let found: FoundFlag

    /// Set once the field's part was seen (a form without it is a bad request).
    final class FoundFlag: @unchecked Sendable {
        var value = false
    }

    /// The boundary of a `multipart/form-data` content type, or nil for other types.
    static func boundary(of contentType: String) throws -> String? {
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("boundary=") {
            var value = String(parameter.dropFirst("boundary=".count))
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            guard (1...70).contains(value.count) else { break }
            return value
        }
        throw ViceError(.badRequest, "multipart/form-data needs a boundary parameter of 1-70 characters")
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        enum State { case preamble, headers, content(emit: Bool), afterDelimiter, epilogue }

        var base: Base.AsyncIterator
        let delimiter: [UInt8]
        let field: String
        let found: FoundFlag
        var state = State.preamble
        // Bytes received but not yet decided on; starts with CRLF so the first boundary matches.
        var pending = ByteBuffer(bytes: [13, 10])
        var finished = false

        mutating func next() async throws -> ByteBuffer? {
            while true {
                if let output = try step() { return output }
                if finished { return nil }
                guard var chunk = try await base.next() else {
                    finished = true
                    guard case .epilogue = state else {
                        throw ViceError(.badRequest, "the multipart body ends before its closing boundary")
                    }
                    return nil
                }
                if case .epilogue = state { continue }  // drain what follows the closing boundary
                pending.writeBuffer(&chunk)
            }
        }

        /// Consumes what `pending` allows; returns file content to emit, or nil to read more.
        mutating func step() throws -> ByteBuffer? {
            while true {
                switch state {
                case .epilogue:
                    pending.clear()
                    return nil
                case .preamble:
                    guard let index = find(delimiter) else {
                        keepTail(delimiter.count - 1)
                        return nil
                    }
                    pending.moveReaderIndex(forwardBy: index + delimiter.count)
                    state = .afterDelimiter
                case .afterDelimiter:
                    guard pending.readableBytes >= 2 else { return nil }
                    let marker = pending.getBytes(at: pending.readerIndex, length: 2)!
                    if marker == [45, 45] {  // "--": the closing boundary
                        state = .epilogue
                        continue
                    }
                    guard marker == [13, 10] else { throw ViceError(.badRequest, "malformed multipart boundary line") }
                    pending.moveReaderIndex(forwardBy: 2)
                    state = .headers
                case .headers:
                    guard let end = find([13, 10, 13, 10]) else {
                        guard pending.readableBytes < 16 * 1024 else { throw ViceError(.badRequest, "multipart part headers are too long") }
                        return nil
                    }
                    let text = pending.readString(length: end) ?? ""
                    pending.moveReaderIndex(forwardBy: 4)
                    let isField = Self.partName(text) == field && !found.value
                    if isField { found.value = true }
                    state = .content(emit: isField)
                case .content(let emit):
                    if let index = find(delimiter) {
                        let content = pending.readSlice(length: index)!
                        pending.moveReaderIndex(forwardBy: delimiter.count)
                        state = .afterDelimiter
                        if emit && content.readableBytes > 0 { return content }
                        continue
                    }
                    // Everything but a possible start of the delimiter can go.
                    let safe = pending.readableBytes - (delimiter.count - 1)
                    guard safe > 0 else { return nil }
                    let content = pending.readSlice(length: safe)!
                    compact()
                    if emit { return content }
                    return nil
                }
            }
        }

        func find(_ needle: [UInt8]) -> Int? {
            pending.withUnsafeReadableBytes { haystack in Self.search(needle, in: haystack) }
        }

        /// The offset of `needle` in `haystack`: memchr for its first byte, then memcmp.
        static func search(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer) -> Int? {
            guard let base = haystack.baseAddress, haystack.count >= needle.count, let first = needle.first else { return nil }
            return needle.withUnsafeBytes { n -> Int? in
                var offset = 0
                let last = haystack.count - needle.count
                while offset <= last {
                    guard let hit = memchr(base + offset, Int32(first), last - offset + 1) else { return nil }
                    let index = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(base + index, n.baseAddress!, needle.count) == 0 { return index }
                    offset = index + 1
                }
                return nil
            }
        }

        mutating func keepTail(_ count: Int) {
            if pending.readableBytes > count { pending.moveReaderIndex(forwardBy: pending.readableBytes - count) }
            compact()
        }

        /// Moves the undecided bytes to the front so the buffer does not grow with the body.
        mutating func compact() {
            if pending.readerIndex > 1 << 20 || pending.readableBytes == 0 { pending.discardReadBytes() }
        }

        /// The `name` of a part's `Content-Disposition: form-data; name="…"`.
        static func partName(_ headers: String) -> String? {
            for line in headers.split(separator: "\r\n") {
                let pair = line.split(separator: ":", maxSplits: 1)
                guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == "content-disposition" else { continue }
                for parameter in pair[1].split(separator: ";") {
                    let item = parameter.trimmingCharacters(in: .whitespaces)
                    guard item.lowercased().hasPrefix("name=") else { continue }
                    var value = String(item.dropFirst(5))
                    if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                    return value
                }
            }
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: base.makeAsyncIterator(), delimiter: Array("\r\n--\(boundary)".utf8), field: field, found: found)
    }
}
