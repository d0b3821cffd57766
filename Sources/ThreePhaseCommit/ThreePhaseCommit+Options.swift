import AtomicCommit
import ConsensusCore
import KVStore

extension ThreePhaseCommit {
    public struct Options: SessionBackendOptions {
        public var timing = CommitTiming()
        /// How long the coordinator waits for every PreCommit acknowledgement before it aborts.
        public var ackTimeout: TimeSpan = .milliseconds(100)
        /// How long a participant that voted YES waits for PreCommit before it aborts.
        public var preCommitTimeout: TimeSpan = .milliseconds(300)
        /// How long a pre-committed participant waits for DoCommit before it commits. Longer than
        /// `ackTimeout` by many re-sends, so that an abort the coordinator decides after a missing
        /// acknowledgement reaches a pre-committed participant before its timer does (over a lossy
        /// but connected network).
        public var commitTimeout: TimeSpan = .milliseconds(500)
        /// Skeen's termination protocol instead of the timeout rules: a participant that times out
        /// asks everyone it can reach; the lowest-numbered node among those that answer decides —
        /// commit if any of them is pre-committed, abort otherwise.
        public var termination = false
        /// The coordinators' client sessions (`sessionTimeout`, `sessionResults`).
        public var sessions = SessionOptions()

        public init() {}

        public static let documentation: [OptionDoc] = CommitTiming.documentation + [
            OptionDoc("ackTimeout", values: "duration", default: "\"100ms\"", "the coordinator aborts when a PreCommit acknowledgement is missing after this long"),
            OptionDoc("preCommitTimeout", values: "duration", default: "\"300ms\"", "a participant that voted YES aborts when no PreCommit came after this long"),
            OptionDoc("commitTimeout", values: "duration", default: "\"500ms\"", "a pre-committed participant commits when no decision came after this long"),
            OptionDoc("termination", values: "boolean", default: "false", "Skeen's termination protocol: on a timeout, the reachable nodes elect a new coordinator that decides"),
        ] + SessionOptions.documentation

        public mutating func set(_ name: String, to value: JSONValue) throws(OptionError) {
            if try timing.set(name, to: value) { return }
            if try sessions.set(name, to: value) { return }
            switch name {
            case "ackTimeout": ackTimeout = try value.positiveDuration(name)
            case "preCommitTimeout": preCommitTimeout = try value.positiveDuration(name)
            case "commitTimeout": commitTimeout = try value.positiveDuration(name)
            case "termination": termination = try value.boolOption(name)
            default: throw OptionError.unknown(name, known: Self.documentation)
            }
        }

        /// A participant's patience in `state`.
        func timeout(in state: TransactionState) -> TimeSpan {
            state == .preCommitted ? commitTimeout : preCommitTimeout
        }
    }
}
