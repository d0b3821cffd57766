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

        /// The shared messages keep `CommitMessage`'s encoding (tags 0…5); PreCommit is tag 6 and
        /// the transaction id, its reply tag 7, the id and `ok` (bool).
        public func encode(to writer: inout ByteWriter) {
            switch self {
            case .common(let message): message.encode(to: &writer)
            case .preCommit(let id): writer.write(6 as UInt8); writer.write(id)
            case .preCommitReply(let id, let ok): writer.write(7 as UInt8); writer.write(id); writer.write(ok)
            }
        }

        public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
            let start = reader.offset
            let tag = try reader.peekByte()
            if CommitMessage.tags.contains(tag) {
                self = .common(try CommitMessage(from: &reader))
                return
            }
            _ = try reader.readByte()
            switch tag {
            case 6: self = .preCommit(try reader.read())
            case 7: self = .preCommitReply(try reader.read(), ok: try reader.readBool())
            default: throw .invalid("3PC message tag", offset: start)
            }
        }

        /// The encoded length.
        public var byteCount: Int {
            switch self {
            case .common(let message): message.byteCount
            case .preCommit: 17
            case .preCommitReply: 18
            }
        }
    }
}
