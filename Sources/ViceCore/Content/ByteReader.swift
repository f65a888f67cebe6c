/// Random access to bytes that are not in memory (a staged upload), for inspection.
public protocol ByteReader: Sendable {
    var size: Int64 { get }
    /// Up to `count` bytes from `offset`; fewer at the end.
    func read(at offset: Int64, count: Int) throws -> [UInt8]
}
