import AtomicCommit
import ConsensusCore

extension TwoPhaseCommit {
    /// 2PC's wire messages: the shared atomic-commit messages under 2PC's names.
    public struct Message: CommitWire, Hashable {
        public var body: CommitMessage

        public init(_ message: CommitMessage) { body = message }

        public enum Kind: String, CaseIterable, Sendable {
            case prepare = "PREPARE"
            case yes = "YES"
            case no = "NO"
            case commit = "COMMIT"
            case abort = "ABORT"
            case ack = "ACK"
            /// An in-doubt participant asks for the decision.
            case decisionRequest = "DECISION_REQ"
            /// The answer: committed, aborted, or in doubt too.
            case decisionReport = "DECISION"
        }

        public var kind: Kind {
            switch body {
            case .voteRequest: .prepare
            case .vote(_, let yes): yes ? .yes : .no
            case .decision(_, let commit): commit ? .commit : .abort
            case .ack: .ack
            case .stateRequest: .decisionRequest
            case .stateReport: .decisionReport
            }
        }

        /// Encoded as the shared message (`CommitMessage`'s encoding).
        public func encode(to writer: inout ByteWriter) { body.encode(to: &writer) }

        public init(from reader: inout ByteReader) throws(BinaryDecodingError) { body = try CommitMessage(from: &reader) }

        public var byteCount: Int { body.byteCount }
    }
}
