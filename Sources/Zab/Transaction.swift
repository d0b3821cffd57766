import ConsensusCore

/// One entry of the transaction log: a client's write, stamped with the zxid the leader gave it
/// and the leader's clock when it proposed it (every replica expires client sessions by these
/// times, so all expire them at the same transaction; Raft thesis §6.3).
///
/// Encoded as the zxid (u64), the time (i64 microseconds), then the request (`ClientRequest`).
public struct Transaction: WireCodable, Hashable, Sendable {
    public var zxid: Zxid
    public var stamp: Instant
    public var request: ClientRequest

    public init(zxid: Zxid, stamp: Instant, request: ClientRequest) {
        self.zxid = zxid
        self.stamp = stamp
        self.request = request
    }

    public func encode(to writer: inout ByteWriter) {
        writer.write(zxid.rawValue)
        writer.write(stamp)
        request.encode(to: &writer)
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        zxid = Zxid(rawValue: try reader.readUInt64())
        stamp = try reader.readInstant()
        request = try ClientRequest(from: &reader)
    }

    /// The encoded length.
    public var byteCount: Int { 16 + request.byteCount }

    /// The shortest encoding: a zxid, a time and a request for the empty key.
    static let minimumByteCount = 16 + ClientRequest.minimumByteCount
}

/// ZAB's durable metadata (Zab §III, "f.p" and "f.a"): the last epoch this node promised to follow
/// (acknowledged NEWEPOCH for, or proposed as leader) and the epoch of the last leader whose
/// history it accepted (acknowledged NEWLEADER for). Both must survive a crash: a node that forgot
/// `acceptedEpoch` could acknowledge two leaders of one epoch.
public struct EpochState: BinaryCodable, Hashable, Sendable {
    public var acceptedEpoch: Epoch
    public var currentEpoch: Epoch

    public init(acceptedEpoch: Epoch, currentEpoch: Epoch) {
        self.acceptedEpoch = acceptedEpoch
        self.currentEpoch = currentEpoch
    }

    public func encode(to writer: inout ByteWriter) {
        writer.write(acceptedEpoch)
        writer.write(currentEpoch)
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        acceptedEpoch = try reader.readUInt64()
        currentEpoch = try reader.readUInt64()
        guard currentEpoch <= acceptedEpoch else {
            throw .invalid("epoch state (current epoch \(currentEpoch) above accepted epoch \(acceptedEpoch))", offset: 0)
        }
    }
}
