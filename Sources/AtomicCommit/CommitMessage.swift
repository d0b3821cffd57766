import ConsensusCore

/// The messages both atomic commit protocols exchange. Each backend wraps them in its own `Message`
/// type, whose kinds carry the protocol's own names (2PC PREPARE, 3PC CANCOMMIT), so that scenario
/// triggers and message counts speak each protocol's language.
public enum CommitMessage: Hashable, Sendable {
    /// Coordinator → participant: lock the key and vote (2PC PREPARE, 3PC CANCOMMIT).
    case voteRequest(TransactionID, ClientRequest)
    /// Participant → coordinator: YES (the vote is logged and the key locked) or NO.
    case vote(TransactionID, yes: Bool)
    /// Decider → participant: the outcome (2PC COMMIT, 3PC DOCOMMIT; ABORT in both).
    case decision(TransactionID, commit: Bool)
    /// Participant → decider: the decision is logged and applied.
    case ack(TransactionID)
    /// What do you know of this transaction? Asked by an in-doubt participant, a restarted node,
    /// or a termination protocol.
    case stateRequest(TransactionID)
    case stateReport(TransactionID, TransactionState)

}

/// The wire encoding: a tag byte, the transaction id (coordinator i64, counter u64), then
///
///     0 voteRequest  the request (`ClientRequest`)
///     1 vote         yes bool
///     2 decision     commit bool
///     3 ack          —
///     4 stateRequest —
///     5 stateReport  state u8 (0 voted, 1 pre-committed, 2 committed, 3 aborted)
///
/// Tags 6 and above are left to the backends' own messages (3PC's PreCommit round).
extension CommitMessage: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        switch self {
        case .voteRequest(let id, let request): writer.write(0 as UInt8); writer.write(id); writer.write(request)
        case .vote(let id, let yes): writer.write(1 as UInt8); writer.write(id); writer.write(yes)
        case .decision(let id, let commit): writer.write(2 as UInt8); writer.write(id); writer.write(commit)
        case .ack(let id): writer.write(3 as UInt8); writer.write(id)
        case .stateRequest(let id): writer.write(4 as UInt8); writer.write(id)
        case .stateReport(let id, let state): writer.write(5 as UInt8); writer.write(id); writer.write(state.rawValue)
        }
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        let start = reader.offset
        switch try reader.readByte() {
        case 0: self = .voteRequest(try reader.read(), try reader.read())
        case 1: self = .vote(try reader.read(), yes: try reader.readBool())
        case 2: self = .decision(try reader.read(), commit: try reader.readBool())
        case 3: self = .ack(try reader.read())
        case 4: self = .stateRequest(try reader.read())
        case 5: self = .stateReport(try reader.read(), try reader.readTag(TransactionState.self, "transaction state"))
        default: throw .invalid("commit message tag", offset: start)
        }
    }

    /// The encoded length: a tag byte and a transaction id, plus the request or the answer.
    public var byteCount: Int {
        switch self {
        case .voteRequest(_, let request): 17 + request.byteCount
        case .vote, .decision, .stateReport: 18
        case .ack, .stateRequest: 17
        }
    }

    /// The tags `CommitMessage` uses (0…5); a backend's own messages take the ones above.
    package static let tags: ClosedRange<UInt8> = 0...5
}

/// A backend's wire message, able to carry the shared messages; the shared machinery sends
/// through it without knowing the protocol's own messages.
package protocol CommitWire: WireMessage {
    init(_ message: CommitMessage)
}
