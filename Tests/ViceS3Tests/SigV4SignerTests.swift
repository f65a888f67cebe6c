import Foundation
import Testing
import ViceS3

/// The signer against known answers: AWS's published S3 example, and a request signed by
/// botocore's `S3SigV4Auth` (the reference implementation) at a fixed time — a path-style PUT to a
/// local endpoint with a port, an escaped key and a query, as the S3 blob store sends them.
@Suite struct SigV4SignerTests {
    static func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0, _ second: Int = 0) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))!
    }

    @Test func awsPublishedGetObjectExample() throws {
        let signer = SigV4Signer(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                 region: "us-east-1")
        let signed = try signer.sign(method: "GET", url: "https://examplebucket.s3.amazonaws.com/test.txt",
                                     headers: [("Range", "bytes=0-9")], payloadHash: SigV4Signer.emptyPayload,
                                     date: Self.utc(2013, 5, 24))
        let authorization = try #require(signed.headers.first { $0.name == "Authorization" }?.value)
        #expect(authorization == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func matchesBotocoreOnAPathStyleUploadPart() throws {
        let signer = SigV4Signer(accessKeyID: "AKIDVICETEST", secretAccessKey: "vice-test-secret-key", region: "us-east-1")
        let signed = try signer.sign(
            method: "PUT", url: "http://127.0.0.1:8333/vice-blobs/sha256/ab/with%20space?uploadId=abc%2Fdef&partNumber=2",
            headers: [("Content-Type", "application/octet-stream"), ("If-None-Match", "*"), ("User-Agent", "curl/7.88"),
                      ("Expect", "100-continue")],
            payloadHash: "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9", date: Self.utc(2026, 1, 2, 3, 4, 5))
        #expect(signed.canonicalRequest == """
            PUT
            /vice-blobs/sha256/ab/with%20space
            partNumber=2&uploadId=abc%2Fdef
            content-type:application/octet-stream
            host:127.0.0.1:8333
            if-none-match:*
            x-amz-content-sha256:b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9
            x-amz-date:20260102T030405Z

            content-type;host;if-none-match;x-amz-content-sha256;x-amz-date
            b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9
            """)
        #expect(signed.stringToSign.hasSuffix("a44af433a97e2ec59840af3c2e4c3bcd39fb805fbd4d1a492c03ff9c78bee2ef"))
        #expect(signed.headers.first { $0.name == "Authorization" }?.value
            == "AWS4-HMAC-SHA256 Credential=AKIDVICETEST/20260102/us-east-1/s3/aws4_request, "
            + "SignedHeaders=content-type;host;if-none-match;x-amz-content-sha256;x-amz-date, "
            + "Signature=d879526610d551aafbe51cf544f754897b2a10ddcc21567f0f3c288eb3fd61cb")
        #expect(signed.headers.contains { $0.name == "User-Agent" }, "unsigned headers are still sent")
    }

    @Test func aRelativeURLIsRefused() {
        let signer = SigV4Signer(accessKeyID: "a", secretAccessKey: "b", region: "us-east-1")
        #expect(throws: SigV4Error.self) { try signer.sign(method: "GET", url: "/bucket/key", payloadHash: SigV4Signer.emptyPayload) }
    }
}
