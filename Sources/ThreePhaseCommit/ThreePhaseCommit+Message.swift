import AtomicCommit
import ConsensusCore

extension ThreePhaseCommit {
    /// 3PC's wire messages: the shared atomic-commit messages under 3PC's names, and the PreCommit
    /// round that 2PC does not have.
    public enum Message: CommitWire, Hashable {
        case common(CommitMessage)
        /// Coordinator → participant: every participant voted YES.
        case preCommit(TransactionID)
        /// Participant → coordinator: PreCommit logged (`ok`), or failed.
        case preCommitReply(TransactionID, ok: Bool)

        public init(_ message: CommitMessage) { self = .common(message) }

        public enum Kind: String, CaseIterable, Sendable {
            case canCommit = "CANCOMMIT"
            case yes = "YES"
            case no = "NO"
            case preCommit = "PRECOMMIT"
            case preCommitAck = "PRECOMMIT_ACK"
            case preCommitFail = "PRECOMMIT_FAIL"
            case doCommit = "DOCOMMIT"
            case abort = "ABORT"
            case ack = "ACK"
            /// A restarted node, or a termination protocol, asks what others know.
            case stateRequest = "STATE_REQ"
            case stateReport = "STATE"
        }

        public var kind: Kind {
            switch self {
            case .common(.voteRequest): .canCommit
            case .common(.vote(_, let yes)): yes ? .yes : .no
            case .common(.decision(_, let commit)): commit ? .doCommit : .abort
            case .common(.ack): .ack
            case .common(.stateRequest): .stateRequest
            case .common(.stateReport): .stateReport
            case .preCommit: .preCommit
            case .preCommitReply(_, let ok): ok ? .preCommitAck : .preCommitFail
            }
        }

        public var byteCount: Int {
            switch self {
            case .common(let message): message.byteCount
            case .preCommit: 17
            case .preCommitReply: 18
            }
        }
    }
}
