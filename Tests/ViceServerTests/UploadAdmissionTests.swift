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
