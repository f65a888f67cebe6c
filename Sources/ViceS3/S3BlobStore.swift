package import Foundation
import Crypto
package import ViceCore
import ViceHTTP
import ViceSupport

/// Content-addressed blobs in an S3 bucket, shared by every node: `blobs/sha256/<hex>`. Bytes
/// arrive through an ingest (`S3Ingest`) as `ingests/<id>` — in one PUT when small, as a
/// multipart upload of `partSize` parts otherwise (S3 caps one PUT at 5 GiB) — hashed on the way,
/// described by `ingests/<id>.sealed` once complete, and copied inside the store to their digest
/// with `If-None-Match: *` on commit, so nothing appears under a digest before it is whole and
/// identical content is kept once. Reads are streamed, ranged where asked.
package final class S3BlobStore: BlobStore {
    package let client: S3Client
    /// Bytes per part of a multipart upload (S3: 5 MiB at least, 10,000 parts at most).
    let partSize: Int
    /// Begun ingests younger than this are never called pending: another node may be writing them.
    let orphanAge: TimeInterval
    let leases: any BlobLeaseKeeper

    package init(location: S3Location, partSize: Int = 16 << 20, orphanAge: TimeInterval = 24 * 3600,
                 leases: any BlobLeaseKeeper = LocalBlobLeaseKeeper()) {
        client = S3Client(location: location)
        self.partSize = max(5 << 20, partSize)
        self.orphanAge = orphanAge
        self.leases = leases
    }

    static let blobPrefix = "blobs/sha256/"
    static let ingestPrefix = "ingests/"

    func key(of digest: String) throws -> String {
        let hex = digest.hasPrefix("sha256:") ? String(digest.dropFirst(7)) : ""
        guard hex.count == 64, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw ViceError.invalidInput("'\(digest)' is not a sha256 digest")
        }
        return Self.blobPrefix + hex
    }

    static func dataKey(_ id: IngestID) -> String { ingestPrefix + id.rawValue }
    static func sealKey(_ id: IngestID) -> String { ingestPrefix + id.rawValue + ".sealed" }

    /// Makes the bucket when it is not there.
    package func prepare() async throws {
        try await client.createBucketIfMissing()
    }

    // MARK: ingests

    package func beginIngest() async throws -> any BlobIngest {
        S3Ingest(store: self, id: IngestID.make())
    }

    package func sealedIngest(_ id: IngestID) async throws -> (any BlobIngest)? {
        let response = try await client.send("GET", Self.sealKey(id), accepted: [200, 404])
        guard response.status == 200 else { return nil }
        let seal = try await response.collect(upTo: 64 << 10)
        guard let blob = try? JSONDecoder().decode(BlobRef.self, from: Data(seal)) else {
            throw ViceError(.internal, "the seal of ingest \(id) is damaged")
        }
        return S3Ingest(store: self, id: id, sealed: blob)
    }

    package func pendingIngests() async throws -> [IngestID] {
        let cutoff = Date().addingTimeInterval(-orphanAge)
        var ids = Set<IngestID>()
        for (key, modified, _) in try await client.listWithDates(prefix: Self.ingestPrefix) where modified <= cutoff {
            let name = key.dropFirst(Self.ingestPrefix.count)
            if let id = IngestID(rawValue: String(name.prefix { $0 != "." })) { ids.insert(id) }
        }
        for upload in try await client.multipartUploads(prefix: Self.ingestPrefix) where upload.initiated <= cutoff {
            if let id = IngestID(rawValue: String(upload.key.dropFirst(Self.ingestPrefix.count))) { ids.insert(id) }
        }
        return ids.sorted { $0.rawValue < $1.rawValue }
    }

    package func discardIngest(_ id: IngestID) async {
        let data = Self.dataKey(id)
        for upload in (try? await client.multipartUploads(prefix: data)) ?? [] where upload.key == data {
            try? await client.abortMultipartUpload(data, uploadID: upload.uploadID)
        }
        await deleteObjects(of: id)
    }

    /// Deletes an ingest's bytes and seal (an ingest that knows it has no upload under way).
    func deleteObjects(of id: IngestID) async {
        try? await client.delete(Self.dataKey(id))
        try? await client.delete(Self.sealKey(id))
    }

    /// Copies the sealed bytes of ingest `id` to `blob.digest` under a lease; identical content
    /// already there is kept.
    func place(_ id: IngestID, as blob: BlobRef) async throws -> BlobLease {
        let (source, target) = (Self.dataKey(id), try key(of: blob.digest))
        return try await leases.lease(blob) { [client] in
            if blob.size <= 5 << 30 {
                _ = try await client.copy(source, to: target, ifNoneMatch: true)
            } else if try await client.size(of: target) == nil {
                try await client.copyInParts(source, to: target, size: blob.size)
            }
        }
    }

    // MARK: blobs

    package func retain(_ digest: String) async throws -> BlobLease? {
        let key = try key(of: digest)
        guard let size = try await client.size(of: key) else { return nil }
        let lease = try await leases.lease(BlobRef(digest: digest, size: size)) {}
        // Deleted between the look and the lease: nothing to hold.
        guard try await client.size(of: key) != nil else {
            lease.release()
            return nil
        }
        return lease
    }

    package func get(_ digest: String) async throws -> ByteStream {
        try await get(digest, range: nil)
    }

    package func get(_ digest: String, range: ClosedRange<Int64>) async throws -> ByteStream {
        try await get(digest, range: Optional(range))
    }

    func get(_ digest: String, range: ClosedRange<Int64>?) async throws -> ByteStream {
        let key = try key(of: digest)
        do {
            return try await client.get(key, range: range).body
        } catch let error as S3Error where error.status == 404 {
            throw ViceError.notFound("blob \(digest) is not in the store")
        }
    }

    package func contains(_ digest: String) async throws -> Bool {
        try await client.size(of: try key(of: digest)) != nil
    }

    @discardableResult
    package func delete(_ digest: String, ifUnused isUnused: @escaping @Sendable () async throws -> Bool) async throws -> Bool {
        let key = try key(of: digest)
        return try await leases.delete(digest, ifUnused: isUnused) { [client] in try await client.delete(key) }
    }

    package func digests() async throws -> [String] {
        try await client.list(prefix: Self.blobPrefix).compactMap { key in
            let hex = key.dropFirst(Self.blobPrefix.count)
            return hex.count == 64 ? "sha256:" + hex : nil
        }.sorted()
    }

    package func localFile(of digest: String) throws -> URL? { nil }

    package func usage() async throws -> BlobUsage {
        let blobs = try await client.listWithDates(prefix: Self.blobPrefix).filter { $0.key.count == Self.blobPrefix.count + 64 }
        return BlobUsage(blobs: blobs.count, bytes: blobs.reduce(0) { $0 + $1.size })
    }
}

/// One ingest of an `S3BlobStore`: parts go up while the next fills (one upload in flight, so a
/// slow store slows the writer down), then the object is completed and sealed.
final class S3Ingest: BlobIngest, @unchecked Sendable {
    private enum State {
        case writing
        case sealed(BlobRef)
        case committed(BlobRef)
        case cancelled
    }

    let id: IngestID
    private let store: S3BlobStore
    private let lock = NSLock()
    private var state: State
    // Writing (one writer at a time, as the protocol says).
    private var buffer: [UInt8] = []
    private var hasher = SHA256()
    private var size: Int64 = 0
    private var uploadID: String?
    private var etags: [String] = []
    private var inFlight: Task<String, any Error>?

    init(store: S3BlobStore, id: IngestID, sealed: BlobRef? = nil) {
        self.store = store
        self.id = id
        state = sealed.map { .sealed($0) } ?? .writing
    }

    private var key: String { S3BlobStore.dataKey(id) }

    func write(_ chunk: some ByteChunk) async throws {
        guard case .writing = lock.withLock({ state }) else { throw ViceError(.internal, "ingest \(id) is not being written") }
        chunk.withUnsafeBytes { bytes in
            hasher.update(bufferPointer: bytes)
            buffer.append(contentsOf: bytes)
        }
        size += Int64(chunk.byteCount)
        while buffer.count >= store.partSize {
            let part = Array(buffer.prefix(store.partSize))
            buffer.removeFirst(part.count)
            try await send(part)
        }
    }

    /// Uploads `part` as the next part once the one before it is up.
    private func send(_ part: [UInt8]) async throws {
        if let previous = inFlight {
            inFlight = nil
            etags.append(try await previous.value)
        }
        let (client, key) = (store.client, key)
        if uploadID == nil { uploadID = try await client.createMultipartUpload(key) }
        let (uploadID, number) = (uploadID!, etags.count + 1)
        inFlight = Task {
            var attempt = 1
            while true {
                do {
                    return try await client.uploadPart(key, uploadID: uploadID, number: number, bytes: part)
                } catch where attempt < 3 && Self.isTransient(error) {
                    attempt += 1
                    try await Task.sleep(for: .milliseconds(200 * attempt))
                }
            }
        }
    }

    private static func isTransient(_ error: any Error) -> Bool {
        (error as? S3Error)?.isTransient ?? ((error as? ViceError)?.code == .unavailable)
    }

    func seal() async throws -> BlobRef {
        switch lock.withLock({ state }) {
        case .sealed(let blob), .committed(let blob): return blob
        case .cancelled: throw ViceError(.internal, "ingest \(id) was cancelled")
        case .writing: break
        }
        let blob = BlobRef(digest: "sha256:" + hasher.finalize().hexString, size: size)
        let client = store.client
        do {
            if uploadID == nil {
                _ = try await client.put(key, bytes: buffer)
            } else {
                if !buffer.isEmpty { try await send(buffer) }
                if let last = inFlight { inFlight = nil; etags.append(try await last.value) }
                try await client.completeMultipartUpload(key, uploadID: uploadID!, etags: etags)
            }
            buffer = []
            try await client.put(S3BlobStore.sealKey(id), bytes: Array(try JSONEncoder().encode(blob)), contentType: "application/json")
        } catch {
            await cancel()
            throw error
        }
        lock.withLock { state = .sealed(blob) }
        return blob
    }

    func reader() async throws -> any ByteReader {
        guard case .sealed(let blob) = lock.withLock({ state }) else { throw ViceError(.internal, "ingest \(id) is not sealed") }
        return S3RangeReader(client: store.client, key: key, size: blob.size)
    }

    func commit(expecting expected: String?) async throws -> BlobLease {
        guard case .sealed(let blob) = lock.withLock({ state }) else { throw ViceError(.internal, "ingest \(id) is not sealed") }
        if let expected, expected != blob.digest {
            await cancel()
            throw ViceError(.badRequest, "the bytes have digest \(blob.digest), not the expected \(expected); nothing was kept")
        }
        let lease = try await store.place(id, as: blob)
        lock.withLock { state = .committed(blob) }
        await store.deleteObjects(of: id)   // sealed: its upload was completed
        return lease
    }

    func cancel() async {
        let previous = lock.withLock { () -> State in
            defer { if case .committed = state {} else { state = .cancelled } }
            return state
        }
        if case .committed = previous { return }
        inFlight?.cancel()
        _ = try? await inFlight?.value
        inFlight = nil
        if let uploadID { try? await store.client.abortMultipartUpload(key, uploadID: uploadID) }
        await store.deleteObjects(of: id)
    }
}

/// Random access to an object by ranged GETs, for the inspectors (which read headers and
/// tables here and there): reads are served from 1 MiB blocks, the last few kept.
final class S3RangeReader: ByteReader, @unchecked Sendable {
    let size: Int64
    private let client: S3Client
    private let key: String
    private let blockSize: Int64 = 1 << 20
    private let lock = NSLock()
    private var blocks: [(index: Int64, bytes: [UInt8])] = []

    init(client: S3Client, key: String, size: Int64) {
        self.client = client
        self.key = key
        self.size = size
    }

    func read(at offset: Int64, count: Int) throws -> [UInt8] {
        guard offset >= 0, count > 0, offset < size else { return [] }
        let end = min(size, offset + Int64(count))
        var result: [UInt8] = []
        result.reserveCapacity(Int(end - offset))
        var position = offset
        while position < end {
            let index = position / blockSize
            let block = try self.block(index)
            let start = Int(position - index * blockSize)
            let take = min(block.count - start, Int(end - position))
            guard take > 0 else { break }
            result += block[start..<(start + take)]
            position += Int64(take)
        }
        return result
    }

    /// One block, fetched when it is not kept. Blocks: the inspectors run on threads of their own
    /// (`BlockingIO`), never on the cooperative pool, where the request itself runs.
    private func block(_ index: Int64) throws -> [UInt8] {
        if let kept = lock.withLock({ blocks.first { $0.index == index }?.bytes }) { return kept }
        let range = (index * blockSize)...(min(size, (index + 1) * blockSize) - 1)
        let (client, key) = (client, key)
        let result = LockedBox<Result<[UInt8], any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let fetched: Result<[UInt8], any Error>
            do {
                fetched = .success(try await client.get(key, range: range).collect(upTo: Int(range.count) + 1))
            } catch {
                fetched = .failure(error)
            }
            result.withLock { $0 = fetched }
            done.signal()
        }
        done.wait()
        let bytes = try result.withLock { $0! }.get()
        lock.withLock {
            blocks.append((index, bytes))
            if blocks.count > 8 { blocks.removeFirst() }
        }
        return bytes
    }
}

