import Foundation
import Testing
import ViceTestSupport
import ViceCore
@testable import ViceStorage

/// Ingest writes run on a fixed pool of threads, however many ingests there are.
@Suite struct IngestWriterPoolTests {
    static func writerThreads() -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter {
            ((try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8)) ?? "").hasPrefix("vice-staging")
        }.count
    }

    @Test func sixteenUploadsShareFourThreadsAndEachFileIsWrittenInOrder() async throws {
        let directory = try TemporaryDirectory()
        let pool = IngestWriterPool(threads: 4)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<16 {
                group.addTask {
                    let path = directory.file("upload-\(index)")
                    let writer = try IngestWriter(path: path, window: 64 << 10, pool: pool)
                    for chunk in 0..<64 {
                        try await writer.write([UInt8](repeating: UInt8((index + chunk) % 256), count: 16 << 10))
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
        #expect(Self.writerThreads() <= 4 + IngestWriterPool.shared.threads)
    }
}
