import Foundation
import Testing
import ViceCore

/// Every event of an image's lifecycle from every status, and the one it refuses — no I/O.
@Suite struct ImageLifecycleTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let blob = BlobRef(digest: "sha256:" + String(repeating: "a", count: 64), size: 42)
    static let older = "sha256:" + String(repeating: "b", count: 64)

    static func image(_ status: ImageStatus, withBytes: Bool = false) -> Image {
        Image(id: "i", title: nil, contenttype: .diskRaw, status: status, statusMessage: "before",
              size: withBytes ? 7 : nil, checksum: withBytes ? older : nil)
    }

    @Test func aNewImageIsQueued() {
        #expect(ImageLifecycle.initialStatus == .queued)
    }

    @Test(arguments: [ImageStatus.queued, .importing, .storing, .failed])
    func queuingAnImportQueuesAnImageWithoutBytes(_ status: ImageStatus) {
        var lifecycle = ImageLifecycle(Self.image(status))
        #expect(lifecycle.queueImport(at: Self.now) == .persist)
        #expect(lifecycle.image.status == .queued)
        #expect(lifecycle.image.statusMessage == nil)
        #expect(lifecycle.image.updatedAt == Self.now)
    }

    @Test func queuingAnImportOfAnActiveImageKeepsItActive() {
        var lifecycle = ImageLifecycle(Self.image(.active, withBytes: true))
        lifecycle.queueImport(at: Self.now)
        #expect(lifecycle.image.status == .active)
        #expect(lifecycle.image.statusMessage == "re-import queued")
    }

    @Test(arguments: [ImageStatus.queued, .importing, .failed])
    func beginningAnImportMakesTheImageImporting(_ status: ImageStatus) throws {
        var lifecycle = ImageLifecycle(Self.image(status))
        #expect(try lifecycle.beginImport(at: Self.now) == .persist)
        #expect(lifecycle.image.status == .importing)
    }

    @Test func anActiveImageKeepsServingWhileItIsImportedAgain() throws {
        var lifecycle = ImageLifecycle(Self.image(.active, withBytes: true))
        #expect(try lifecycle.beginImport(at: Self.now) == .unchanged)
        #expect(lifecycle.image.status == .active)
    }

    @Test func anImportIsRefusedWhileAnUploadIsBeingStored() {
        var lifecycle = ImageLifecycle(Self.image(.storing))
        #expect(throws: ImageLifecycle.Refused(event: "begin an import", status: .storing)) {
            try lifecycle.beginImport(at: Self.now)
        }
        #expect(lifecycle.image.status == .storing, "a refused event changes nothing")
    }

    @Test(arguments: ImageStatus.allCases)
    func beginningToStoreMakesAnyImageStoring(_ status: ImageStatus) {
        var lifecycle = ImageLifecycle(Self.image(status))
        lifecycle.beginStore(at: Self.now)
        #expect(lifecycle.image.status == .storing)
        #expect(lifecycle.image.statusMessage == nil)
    }

    @Test(arguments: ImageStatus.allCases)
    func aCommitMakesTheImageActiveWithTheBlobAndAnswersThePreviousDigest(_ status: ImageStatus) {
        var lifecycle = ImageLifecycle(Self.image(status, withBytes: status == .active))
        let previous = lifecycle.commit(Self.blob, imported: true, contenttype: .diskQcow2, title: "from origin", specifics: .object([:]), at: Self.now)
        #expect(previous == (status == .active ? Self.older : nil))
        let image = lifecycle.image
        #expect(image.status == .active && image.statusMessage == nil && image.imported == true)
        #expect(image.checksum == Self.blob.digest && image.size == 42 && image.contenttype == .diskQcow2)
        #expect(image.title == "from origin", "a title the caller did not give comes from the origin")
        #expect(image.updatedAt == Self.now)
    }

    @Test func aCommitKeepsTheCallersTitleAndType() {
        var image = Self.image(.importing)
        image.title = "mine"
        var lifecycle = ImageLifecycle(image)
        _ = lifecycle.commit(Self.blob, imported: false, contenttype: nil, title: "theirs")
        #expect(lifecycle.image.imported == false, "uploaded bytes are not imported")
        #expect(lifecycle.image.title == "mine")
        #expect(lifecycle.image.contenttype == .diskRaw)
    }

    @Test func aRetriedImportGoesBackToTheQueueAndARetriedUploadStaysStoring() {
        var importing = ImageLifecycle(Self.image(.importing))
        importing.retry(.import, reason: "attempt 1 of 5 failed", at: Self.now)
        #expect(importing.image.status == .queued)
        #expect(importing.image.statusMessage == "attempt 1 of 5 failed")

        var storing = ImageLifecycle(Self.image(.storing))
        storing.retry(.upload, reason: "disk busy", at: Self.now)
        #expect(storing.image.status == .storing)
        #expect(storing.image.statusMessage == "disk busy")

        var active = ImageLifecycle(Self.image(.active, withBytes: true))
        active.retry(.import, reason: "again", at: Self.now)
        #expect(active.image.status == .active)
    }

    @Test(arguments: [ImageLifecycle.Operation.import, .upload])
    func failingWithoutBytesFailsTheImage(_ operation: ImageLifecycle.Operation) {
        var lifecycle = ImageLifecycle(Self.image(operation == .import ? .importing : .storing))
        lifecycle.fail(operation, reason: "refused", at: Self.now)
        #expect(lifecycle.image.status == .failed)
        #expect(lifecycle.image.statusMessage == "\(operation.rawValue) failed: refused")
    }

    @Test(arguments: [ImageLifecycle.Operation.import, .upload])
    func failingWithOlderBytesKeepsThemActive(_ operation: ImageLifecycle.Operation) {
        var lifecycle = ImageLifecycle(Self.image(.storing, withBytes: true))
        lifecycle.fail(operation, reason: "refused", at: Self.now)
        #expect(lifecycle.image.status == .active)
        #expect(lifecycle.image.checksum == Self.older)
        #expect(lifecycle.image.statusMessage == "the last \(operation.rawValue) failed: refused")
    }

    @Test func bytesAreServedWhenActiveOrWhileNewOnesAreStored() {
        #expect(Self.image(.active, withBytes: true).servesBytes)
        #expect(Self.image(.storing, withBytes: true).servesBytes)
        #expect(!Self.image(.storing).servesBytes)
        #expect(!Self.image(.importing, withBytes: true).servesBytes)
        #expect(!Self.image(.failed).servesBytes)
    }
}
