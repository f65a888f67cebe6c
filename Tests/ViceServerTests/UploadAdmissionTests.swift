import Foundation
import Hummingbird
import Testing
import ViceTestSupport
import ViceCore
@testable import ViceServer

/// Uploads in flight are bounded per user (429) and in all (503), and say when to retry.
@Suite struct UploadAdmissionTests {
    @Test func aUserGetsHisShareAndTheServerItsTotal() throws {
        let admission = UploadAdmission(perUser: 2, total: 3)
        try admission.admit("alice")
        try admission.admit("alice")
        #expect { try admission.admit("alice") } throws: { ($0 as? ViceError)?.code == .tooManyRequests }
        try admission.admit("bob")
        #expect { try admission.admit("carol") } throws: { ($0 as? ViceError)?.code == .unavailable }
        admission.release("alice")
        try admission.admit("carol")
        #expect(ErrorMiddleware.status(for: .tooManyRequests) == .tooManyRequests)
    }
}

/// Upload writes run on a fixed pool of threads, however many uploads there are.
@Suite struct StagingWriterPoolTests {
    static func writerThreads() -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter {
            ((try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8)) ?? "").hasPrefix("vice-staging")
        }.count
    }

    @Test func sixteenUploadsShareFourThreadsAndEachFileIsWrittenInOrder() async throws {
        let directory = try TemporaryDirectory()
        let pool = StagingWriterPool(threads: 4)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<16 {
                group.addTask {
                    let path = directory.file("upload-\(index)")
                    let writer = try StagingFileWriter(path: path, window: 64 << 10, pool: pool)
                    for chunk in 0..<64 {
                        try await writer.write(ByteBuffer(repeating: UInt8((index + chunk) % 256), count: 16 << 10))
                    }
                    try await writer.finish()
                    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
                    #expect(bytes.count == 64 * (16 << 10))
                    #expect((0..<64).allSatisfy { bytes[$0 * (16 << 10)] == UInt8((index + $0) % 256) })
                }
            }
            try await group.waitForAll()
        }
        // This pool's four, plus the shared pool's if another test started it.
        #expect(Self.writerThreads() <= 4 + StagingWriterPool.shared.threads)
    }
}
