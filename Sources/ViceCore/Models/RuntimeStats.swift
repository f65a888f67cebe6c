/// Queue statistics with the seed's six keys: `*Pending` are jobs waiting to start, `*Worker` the
/// worker slots consuming the queue. Zeros are written out (the original dropped them).
public struct RuntimeStats: Sendable, Hashable, Codable {
    public var importsPending: Int64
    public var importWorker: Int64
    public var exportsPending: Int64
    public var exportWorker: Int64
    public var storePending: Int64
    public var storeWorker: Int64

    public init(importsPending: Int64 = 0, importWorker: Int64 = 0, exportsPending: Int64 = 0,
                exportWorker: Int64 = 0, storePending: Int64 = 0, storeWorker: Int64 = 0) {
        self.importsPending = importsPending
        self.importWorker = importWorker
        self.exportsPending = exportsPending
        self.exportWorker = exportWorker
        self.storePending = storePending
        self.storeWorker = storeWorker
    }
}
