import Testing
@testable import ViceServer

/// `Range` headers of downloads: one range, suffixes, open ends, and what is ignored or refused.
@Suite struct ByteRangeTests {
    @Test(arguments: [
        ("bytes=0-9", ByteRange.range(0...9)),
        ("bytes=10-", .range(10...99)),
        ("bytes=-10", .range(90...99)),
        ("bytes=-1000", .range(0...99)),
        ("bytes=95-1000", .range(95...99)),
        ("  BYTES=5-5 ", .range(5...5)),
        ("bytes=100-", .unsatisfiable),
        ("bytes=-0", .unsatisfiable),
        ("bytes=0-1,5-6", .whole),
        ("bytes=9-3", .whole),
        ("bytes=a-b", .whole),
        ("items=0-9", .whole),
        ("bytes=-", .whole),
        ("bytes=-5-", .whole),
    ])
    func rangesOfAHundredBytes(_ header: String, _ expected: ByteRange) {
        #expect(ByteRange.parse(header, size: 100) == expected)
    }

    @Test func anEmptyFileHasNoSatisfiableRange() {
        #expect(ByteRange.parse("bytes=0-", size: 0) == .unsatisfiable)
        #expect(ByteRange.parse("bytes=-5", size: 0) == .unsatisfiable)
    }
}
