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

    /// Approximate encoded size: a kind byte and a transaction id, plus the request or the answer.
    public var byteCount: Int {
        switch self {
        case .voteRequest(_, let request): 17 + request.byteCount
        case .vote, .decision, .stateReport: 18
        case .ack, .stateRequest: 17
        }
    }
}

/// A backend's wire message, able to carry the shared messages; the shared machinery sends
/// through it without knowing the protocol's own messages.
public protocol CommitWire: WireMessage {
    init(_ message: CommitMessage)
}
