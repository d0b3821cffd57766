import ConsensusCore

/// One record of a node's write-ahead log. Atomic commit keeps nothing else durable: the key-value
/// replica, the lock table, the exactly-once table and the transaction counter are all rebuilt by
/// replaying these records in order.
///
/// Every record is synced before any message that depends on it leaves the node (the driver's
/// storage-first rule), which is what each case's guarantee rests on.
public enum TransactionRecord: Hashable, Sendable {
    /// The coordinator started the transaction, or a participant voted YES on it: the key stays
    /// locked until the decision. A participant that voted YES must remember it across a crash,
    /// because the coordinator may already have counted its vote (Gray & Lamport 2006, §3).
    /// `at` is the node's clock when it logged the record: a restarted coordinator rebuilds its
    /// clients' sessions at these times, so they expire when they would have without the restart.
    case prepared(TransactionID, ClientRequest, at: Instant)
    /// 3PC: the participant accepted PreCommit, so it knows that every participant voted YES.
    case preCommitted(TransactionID)
    /// The outcome, logged before the coordinator sends it and before a participant applies it.
    /// Committed transactions are replayed in the order of these records, the order they were applied.
    case decided(TransactionID, commit: Bool)
    /// The deciding node has every acknowledgement: nothing to re-send after a restart.
    case ended(TransactionID)
}

extension TransactionRecord: BinaryCodable {
    public func encode(to writer: inout ByteWriter) {
        switch self {
        case .prepared(let id, let request, let stamp):
            writer.write(0 as UInt8); writer.write(id); writer.write(request); writer.write(stamp)
        case .preCommitted(let id):
            writer.write(1 as UInt8); writer.write(id)
        case .decided(let id, let commit):
            writer.write(2 as UInt8); writer.write(id); writer.write(commit)
        case .ended(let id):
            writer.write(3 as UInt8); writer.write(id)
        }
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        let start = reader.offset
        switch try reader.readByte() {
        case 0: self = .prepared(try reader.read(), try reader.read(), at: try reader.readInstant())
        case 1: self = .preCommitted(try reader.read())
        case 2: self = .decided(try reader.read(), commit: try reader.readBool())
        case 3: self = .ended(try reader.read())
        default: throw .invalid("transaction record tag", offset: start)
        }
    }
}

/// Atomic commit has no durable metadata besides its log records; the type exists because the
/// backend contract asks for one, and is never written.
public struct CommitHardState: BinaryCodable, Hashable, Sendable {
    init() {}
    public func encode(to writer: inout ByteWriter) {}
    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {}
}
