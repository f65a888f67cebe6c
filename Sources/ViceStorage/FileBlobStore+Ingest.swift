import Crypto
import Foundation
package import ViceCore

#if canImport(Glibc)
import Glibc
#endif

extension FileBlobStore {
    func stagedData(_ id: IngestID) -> URL { stagingDirectory.appendingPathComponent("\(id.rawValue).part") }
    func sealFile(_ id: IngestID) -> URL { stagingDirectory.appendingPathComponent("\(id.rawValue).sealed") }

    package func beginIngest() async throws -> any BlobIngest {
        let id = IngestID.make()
        let writer = try await BlockingIO.run { [stagedData = stagedData(id)] in try IngestWriter(path: stagedData.path) }
        return FileIngest(store: self, id: id, state: .writing(writer, SHA256(), 0))
    }

    package func sealedIngest(_ id: IngestID) async throws -> (any BlobIngest)? {
        let (data, seal) = (stagedData(id), sealFile(id))
        let sealed = try await BlockingIO.run { () throws -> BlobRef? in
            guard FileManager.default.fileExists(atPath: data.path),
                  let text = try? String(contentsOf: seal, encoding: .utf8) else { return nil }
            let lines = text.split(separator: "\n").map(String.init)
            guard lines.count == 2, let size = Int64(lines[1]) else {
                throw ViceError(.internal, "the seal of ingest \(id) is damaged")
            }
            return BlobRef(digest: lines[0], size: size)
        }
        return sealed.map { FileIngest(store: self, id: id, state: .sealed($0)) }
    }

    package func pendingIngests() async throws -> [IngestID] {
        let directory = stagingDirectory
        return try await BlockingIO.run {
            guard FileManager.default.fileExists(atPath: directory.path) else { return [] }
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            return Set(names.compactMap { name in
                (name.hasSuffix(".part") || name.hasSuffix(".sealed"))
                    ? IngestID(rawValue: String(name.prefix { $0 != "." })) : nil
            }).sorted { $0.rawValue < $1.rawValue }
        }
    }

    package func discardIngest(_ id: IngestID) async {
        let files = [stagedData(id), sealFile(id)]
        _ = try? await BlockingIO.run { for file in files { try? FileManager.default.removeItem(at: file) } }
    }

    package func retain(_ digest: String) async throws -> BlobLease? {
        let final = try path(of: digest)
        func currentSize() async throws -> Int64? {
            try await BlockingIO.run {
                (try? FileManager.default.attributesOfItem(atPath: final.path)[.size] as? NSNumber)?.int64Value
            }
        }
        guard let size = try await currentSize() else { return nil }
        let lease = try await leases.lease(BlobRef(digest: digest, size: size)) {}
        // Deleted between the look and the lease: nothing to hold.
        guard try await currentSize() != nil else {
            lease.release()
            return nil
        }
        return lease
    }

    /// Moves a sealed file into place under `blob.digest` under a lease on it, so that a delete
    /// of the same digest either ran before (and the file is put back) or gives way to the lease.
    /// Identical content already in place is kept once.
    func place(_ staged: URL, as blob: BlobRef) async throws -> BlobLease {
        let final = try path(of: blob.digest)
        return try await leases.lease(blob) {
            try await BlockingIO.run {
                let fm = FileManager.default
                try fm.createDirectory(at: final.deletingLastPathComponent(), withIntermediateDirectories: true)
                if fm.fileExists(atPath: final.path) {
                    try? fm.removeItem(at: staged)
                } else {
                    guard rename(staged.path, final.path) == 0 else {
                        throw ViceError(.internal, "cannot move a blob into the store: \(String(cString: strerror(errno)))")
                    }
                    try FileDescriptor.syncDirectory(final.deletingLastPathComponent().path)
                }
            }
        }
    }
}

/// One ingest of a `FileBlobStore`: writing (hashed on the caller's task, written on a pool
/// thread), then sealed (fsynced, digest recorded next to the data), then committed or cancelled.
final class FileIngest: BlobIngest, @unchecked Sendable {
    enum State {
        case writing(IngestWriter, SHA256, Int64)
        case sealed(BlobRef)
        case committed(BlobRef)
        case cancelled
    }

    let id: IngestID
    private let store: FileBlobStore
    private let lock = NSLock()
    private var state: State

    init(store: FileBlobStore, id: IngestID, state: State) {
        self.store = store
        self.id = id
        self.state = state
    }

    func write(_ chunk: some ByteChunk) async throws {
        let writer: IngestWriter = try lock.withLock {
            guard case .writing(let writer, var hasher, let size) = state else {
                throw ViceError(.internal, "ingest \(id) is no longer open for writing")
            }
            chunk.withUnsafeBytes { hasher.update(bufferPointer: $0) }
            state = .writing(writer, hasher, size + Int64(chunk.byteCount))
            return writer
        }
        try await writer.write(chunk)
    }

    func seal() async throws -> BlobRef {
        enum Next { case finish(IngestWriter, BlobRef), done(BlobRef) }
        let next: Next = try lock.withLock {
            switch state {
            case .writing(let writer, let hasher, let size):
                return .finish(writer, BlobRef(digest: "sha256:" + hasher.finalize().hexString, size: size))
            case .sealed(let blob), .committed(let blob): return .done(blob)
            case .cancelled: throw ViceError(.internal, "ingest \(id) was cancelled")
            }
        }
        guard case .finish(let writer, let blob) = next else {
            if case .done(let blob) = next { return blob }
            preconditionFailure("unreachable")
        }
        try await writer.finish()
        let seal = store.sealFile(id)
        try await BlockingIO.run {
            // Written aside and renamed, so a seal is whole or absent.
            let temporary = seal.appendingPathExtension("new")
            let file = try FileDescriptor.create(temporary.path)
            try file.write(Array("\(blob.digest)\n\(blob.size)\n".utf8))
            try file.sync()
            file.close()
            guard rename(temporary.path, seal.path) == 0 else {
                throw ViceError(.internal, "cannot seal ingest: \(String(cString: strerror(errno)))")
            }
            try FileDescriptor.syncDirectory(seal.deletingLastPathComponent().path)
        }
        lock.withLock { state = .sealed(blob) }
        return blob
    }

    func reader() async throws -> any ByteReader {
        guard case .sealed = lock.withLock({ state }) else {
            throw ViceError(.internal, "ingest \(id) is not sealed")
        }
        let data = store.stagedData(id)
        return try await BlockingIO.run { try FileByteReader(path: data.path) }
    }

    func commit(expecting expected: String?) async throws -> BlobLease {
        guard case .sealed(let blob) = lock.withLock({ state }) else {
            throw ViceError(.internal, "ingest \(id) is not sealed")
        }
        if let expected, expected != blob.digest {
            await cancel()
            throw ViceError(.badRequest, "the bytes have digest \(blob.digest), not the expected \(expected); nothing was kept")
        }
        let lease = try await store.place(store.stagedData(id), as: blob)
        lock.withLock { state = .committed(blob) }
        await store.discardIngest(id)  // the seal
        return lease
    }

    func cancel() async {
        let writer: IngestWriter? = lock.withLock {
            defer { if case .committed = state {} else { state = .cancelled } }
            if case .writing(let writer, _, _) = state { return writer }
            return nil
        }
        // The pool thread closes the descriptor; the file may go before that.
        writer?.abort()
        if case .committed = lock.withLock({ state }) { return }
        await store.discardIngest(id)
    }
}
