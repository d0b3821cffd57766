import ConsensusCore

/// A Raft term (§5.1): a logical clock that numbers leaderships; at most one leader per term.
public typealias Term = UInt64

/// One entry of the replicated log (§5.3): the term in which a leader created it, the leader's
/// clock when it did, and what it carries.
public struct RaftEntry: Hashable, Sendable {
    public var term: Term
    /// The leader's time when it appended the entry. Every replica applies the entry at this time,
    /// so the state machine expires client sessions at the same entry everywhere (thesis §6.3).
    public var stamp: Instant
    /// The client request to apply; `nil` for the no-op a new leader appends (§8), which lets it
    /// commit entries of earlier terms and serve ReadIndex reads (thesis §6.4).
    public var request: ClientRequest?

    public init(term: Term, stamp: Instant, request: ClientRequest?) {
        self.term = term
        self.stamp = stamp
        self.request = request
    }
}

/// Term u64, stamp i64, then the request (`ClientRequest`?: presence byte, then the request).
extension RaftEntry: WireCodable {
    /// The encoded length.
    public var byteCount: Int { Self.minimumByteCount + (request?.byteCount ?? 0) }

    /// A no-op's length: the shortest entry.
    static let minimumByteCount = 17

    public func encode(to writer: inout ByteWriter) {
        writer.write(term)
        writer.write(stamp)
        writer.write(request != nil)
        if let request { request.encode(to: &writer) }
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        term = try reader.readUInt64()
        stamp = try reader.readInstant()
        request = try reader.readBool() ? try ClientRequest(from: &reader) : nil
    }
}

/// The durable metadata of Figure 2: the latest term the server has seen and whom it voted for in
/// it. Both must be on stable storage before the server answers anything that depends on them,
/// or a restarted server could vote twice in one term.
public struct RaftHardState: Hashable, Sendable {
    public var term: Term
    public var votedFor: NodeID?

    public init(term: Term, votedFor: NodeID?) {
        self.term = term
        self.votedFor = votedFor
    }
}

extension RaftHardState: BinaryCodable {
    public func encode(to writer: inout ByteWriter) {
        writer.write(term)
        writer.write(votedFor?.rawValue ?? 0)
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        term = try reader.readUInt64()
        let start = reader.offset
        let vote = try reader.readInt()
        guard vote >= 0 else { throw .invalid("voted-for node id", offset: start) }
        votedFor = vote == 0 ? nil : NodeID(vote)
    }
}
