package import ViceCore
import Crypto
import Foundation
import ViceHTTP
import ViceSupport

#if canImport(Glibc)
import Glibc
#endif

/// Image files up and down. Downloads resume where they broke off (`Range` + `If-Range` on the
/// digest ETag), within one run and across runs (a `.part` file and the ETag beside it), and are
/// checked against the digest before they take their name. Uploads are retried from the start
/// (the server keeps nothing of a broken upload), hashed on the way for the check that follows.
package struct ImageTransfer: Sendable {
    package let client: APIClient
    /// Tries per transfer, the first included.
    package var attempts = 5
    /// The pause before the n-th retry is this times 2ⁿ⁻¹ (at most 30 s).
    package var backoff: Duration = .seconds(1)

    package init(client: APIClient) {
        self.client = client
    }

    // MARK: upload

    /// Sends `file` as the image's bytes; answers the image as the server left it (`storing`)
    /// and the file's SHA-256 (hex).
    package func upload(imageID: String, file: String, progress: TransferProgress) async throws -> (image: JSONValue, sha256: String) {
        let size: Int64
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: file)
            guard attributes[.type] as? FileAttributeType == .typeRegular else { throw ClientError(.usage, "\(file) is not a regular file") }
            size = (attributes[.size] as? NSNumber)?.int64Value ?? 0
        } catch let error as ClientError {
            throw error
        } catch {
            throw ClientError(.usage, "cannot read \(file): \(error.localizedDescription)")
        }
        var attempt = 1
        while true {
            let hasher = LockedBox(SHA256())
            do {
                let body = try ByteStream.file(URL(fileURLWithPath: file)).observed { chunk, sent in
                    hasher.withLock { $0.update(data: chunk) }
                    progress.update(done: sent, total: size)
                }
                let response = try await client.send("POST", "/image/\(imageID)/file",
                                                     headers: [("Content-Type", "application/octet-stream"), ("Accept", "application/json")],
                                                     body: HTTPRequestBody(body, length: size))
                let bytes = try await response.collect(upTo: 16 << 20)
                let digest = hasher.withLock { $0.finalize() }.hexString
                progress.finish()
                return (try JSONValue.decode(bytes), digest)
            } catch let error as ClientError where error.kind == .unreachable && attempt < attempts {
                try await pause(before: attempt, because: error.message, progress: progress)
            } catch let error as ClientError where error.retryAfter != nil && attempt < attempts {
                // Too many uploads at once (429) or the registry is busy (503): as long as it asks.
                try await pause(before: attempt, because: error.message, progress: progress, seconds: Double(min(60, error.retryAfter ?? 1)))
            } catch let error as HTTPClientError where attempt < attempts {
                try await pause(before: attempt, because: error.message, progress: progress)
            } catch let error as HTTPClientError {
                progress.finish(message: "upload failed")
                throw ClientError(.unreachable, "the upload broke off: \(error.message)")
            }
            attempt += 1
        }
    }

    // MARK: download

    /// What a download brought.
    package struct Downloaded: Sendable {
        package var bytes: Int64
        package var sha256: String
        /// Bytes that were already there from an earlier, interrupted run.
        package var resumedFrom: Int64
        /// Requests that continued a transfer with `Range`.
        package var resumes: Int
    }

    /// Downloads the image's file to `destination` (`-`: standard output).
    package func download(imageID: String, to destination: String, progress: TransferProgress) async throws -> Downloaded {
        let toStdout = destination == "-"
        let part = destination + ".part"
        let tagFile = destination + ".part.etag"
        let sink: FileSink
        var etag: String?
        var offset: Int64 = 0
        var hasher = SHA256()
        if toStdout {
            sink = FileSink(descriptor: STDOUT_FILENO, owned: false)
        } else {
            // A part file of an earlier run continues only when it belongs to the same bytes.
            if let saved = try? String(contentsOfFile: tagFile, encoding: .utf8), FileManager.default.fileExists(atPath: part) {
                etag = saved.trimmingCharacters(in: .whitespacesAndNewlines)
            } else {
                try? FileManager.default.removeItem(atPath: part)
            }
            sink = try FileSink(path: part, append: etag != nil)
            if etag != nil {
                offset = try await sink.hashExisting(into: &hasher)
            }
        }
        let resumedFrom = offset
        var resumes = 0
        var attempt = 1
        defer { sink.close() }
        while true {
            do {
                var headers = [("Accept", "*/*")]
                let resuming = offset > 0 && etag != nil
                if resuming, let etag { headers += [("Range", "bytes=\(offset)-"), ("If-Range", etag)] }
                let response = try await client.send("GET", "/image/\(imageID)/file", headers: headers, accepting: [416])
                if response.status == 416 {
                    // Nothing after `offset`: what the part file holds is the whole (the 416 has no
                    // ETag; the digest check below decides whether it is the image).
                    _ = try? await response.collect(upTo: 1 << 16)
                    guard resuming, Self.totalSize(response.header("Content-Range")) == offset else {
                        throw ClientError(.refused, "the server refused the range bytes=\(offset)- of an image of another size")
                    }
                    break
                }
                guard let tag = response.header("ETag") else {
                    throw ClientError(.refused, "the server sent the file without its digest (no ETag)")
                }
                let continues = response.status == 206 && tag == etag && Self.rangeStart(response.header("Content-Range")) == offset
                if resuming && continues { resumes += 1 }
                if !continues {
                    // The whole file after all (the first request, or the bytes changed): start over.
                    if offset > 0 && toStdout {
                        throw ClientError(.refused, "the server sent the image again from the start after \(offset) bytes were "
                                          + "written to standard output; download to a file to resume")
                    }
                    offset = 0
                    hasher = SHA256()
                    try await sink.truncate()
                }
                etag = tag
                if !toStdout { try? (tag + "\n").write(toFile: tagFile, atomically: true, encoding: .utf8) }
                let total = response.status == 206 ? Self.totalSize(response.header("Content-Range")) : response.header("Content-Length").flatMap(Int64.init)
                do {
                    // Hashing and writing overlap: a batch of 1 MiB is written while the next
                    // arrives and is hashed. What arrived before a break is written before the
                    // retry asks for the rest.
                    let writer = WriteBehind(sink)
                    do {
                        for try await chunk in response.body {
                            hasher.update(data: chunk)
                            try await writer.add(chunk)
                            offset += Int64(chunk.count)
                            progress.update(done: offset, total: total)
                        }
                        try await writer.finish()
                    } catch {
                        try await writer.finish()
                        throw error
                    }
                }
                break
            } catch let error as ClientError where error.kind == .unreachable && attempt < attempts {
                try await pause(before: attempt, because: error.message, progress: progress)
            } catch let error as HTTPClientError where attempt < attempts {
                try await pause(before: attempt, because: error.message, progress: progress)
            } catch let error as HTTPClientError {
                progress.finish(message: "download broke off at \(offset.byteCountText)")
                throw ClientError(.unreachable, "the download broke off after \(attempts) tries: \(error.message)"
                                  + (toStdout ? "" : "; run the command again to continue from \(part)"))
            }
            attempt += 1
        }
        let digest = hasher.finalize().hexString
        let expected = (etag ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "\"W/")).replacingOccurrences(of: "sha256:", with: "")
        guard digest == expected else {
            progress.finish(message: "digest mismatch")
            if !toStdout {
                try? FileManager.default.removeItem(atPath: part)
                try? FileManager.default.removeItem(atPath: tagFile)
            }
            throw ClientError(.digestMismatch, "the downloaded bytes have the SHA-256 \(digest), not the image's \(expected); nothing was kept")
        }
        progress.finish()
        if !toStdout {
            try await sink.sync()
            guard rename(part, destination) == 0 else {
                throw ClientError(.usage, "cannot move \(part) to \(destination): \(String(cString: strerror(errno)))")
            }
            try? FileManager.default.removeItem(atPath: tagFile)
        }
        return Downloaded(bytes: offset, sha256: digest, resumedFrom: resumedFrom, resumes: resumes)
    }

    /// `bytes 100-199/1000` (or `bytes */1000`) → 1000.
    static func totalSize(_ contentRange: String?) -> Int64? {
        contentRange?.split(separator: "/").last.flatMap { Int64($0) }
    }

    /// `bytes 100-199/1000` → 100.
    static func rangeStart(_ contentRange: String?) -> Int64? {
        guard let range = contentRange?.split(separator: " ").last?.split(separator: "-").first else { return nil }
        return Int64(range)
    }

    private func pause(before attempt: Int, because reason: String, progress: TransferProgress, seconds asked: Double? = nil) async throws {
        let seconds = asked ?? min(30, backoff.inSeconds * Double(1 << (attempt - 1)))
        if !progress.isEnabled {
            FileHandle.standardError.write(Data("vice: the transfer broke off (\(reason)); trying again in \(Int(seconds.rounded(.up))) s\n".utf8))
        }
        try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
    }
}

/// Batches chunks to 1 MiB and writes each batch while the next one fills, one write in flight.
final class WriteBehind {
    private let sink: FileSink
    private var batch: [UInt8] = []
    private var inFlight: Task<Void, any Error>?

    init(_ sink: FileSink) {
        self.sink = sink
        batch.reserveCapacity(1 << 20)
    }

    func add(_ chunk: [UInt8]) async throws {
        batch += chunk
        if batch.count >= 1 << 20 { try await flush() }
    }

    /// Writes what is batched and waits for every write.
    func finish() async throws {
        try await flush()
        try await inFlight?.value
        inFlight = nil
    }

    private func flush() async throws {
        try await inFlight?.value
        guard !batch.isEmpty else { inFlight = nil; return }
        let bytes = batch, sink = self.sink
        batch = []
        batch.reserveCapacity(1 << 20)
        inFlight = Task { try await sink.write(bytes) }
    }
}

/// A file written on `BlockingIO` threads, off the cooperative pool.
final class FileSink: @unchecked Sendable {
    private let descriptor: Int32
    private let owned: Bool
    private let path: String?

    init(descriptor: Int32, owned: Bool) {
        self.descriptor = descriptor
        self.owned = owned
        self.path = nil
    }

    init(path: String, append: Bool) throws {
        // Private until it is complete: the image may be someone's private disk.
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (append ? O_APPEND : O_TRUNC), 0o600)
        guard fd >= 0 else { throw ClientError(.usage, "cannot write \(path): \(String(cString: strerror(errno)))") }
        self.descriptor = fd
        self.owned = true
        self.path = path
    }

    func write(_ chunk: [UInt8]) async throws {
        let fd = descriptor
        try await BlockingIO.run { try chunk.withUnsafeBytes { try writeFully(fd, $0) } }
    }

    func truncate() async throws {
        guard path != nil else { return }
        let fd = descriptor
        try await BlockingIO.run {
            guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) >= 0 else { throw SystemCallError("truncate") }
        }
    }

    /// Hashes what the file already holds; answers its length.
    func hashExisting(into hasher: inout SHA256) async throws -> Int64 {
        guard let path else { return 0 }
        let partial = try await BlockingIO.run { () -> (SHA256, Int64) in
            var hasher = SHA256()
            guard let handle = FileHandle(forReadingAtPath: path) else { throw SystemCallError("open \(path)") }
            defer { try? handle.close() }
            var length: Int64 = 0
            while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
                hasher.update(data: data)
                length += Int64(data.count)
            }
            return (hasher, length)
        }
        hasher = partial.0
        return partial.1
    }

    func sync() async throws {
        let fd = descriptor
        try await BlockingIO.run { _ = fsync(fd) }
    }

    func close() {
        if owned { _ = Glibc.close(descriptor) }
    }
}
