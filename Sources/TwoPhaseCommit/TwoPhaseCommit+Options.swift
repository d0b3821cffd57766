import AtomicCommit
import ConsensusCore
import KVStore

extension TwoPhaseCommit {
    public struct Options: SessionBackendOptions {
        /// Classic mistakes the lab plants on purpose (README § Planted bugs).
        public enum Bug: String, CaseIterable, Sendable {
            /// The correct protocol.
            case none
            /// The coordinator sends COMMIT before its decision is durable.
            case commitBeforeLog = "commit-before-log"
            /// A participant forgets, at restart, the YES votes it logged and has no decision for.
            case forgetYesVote = "forget-yes-vote"
        }

        public var timing = CommitTiming()
        /// How long a participant that voted YES waits for the decision before it asks, and then
        /// between questions.
        public var decisionTimeout: TimeSpan = .milliseconds(200)
        /// The cooperative termination protocol: an in-doubt participant asks every participant,
        /// not only the coordinator, and adopts a decision any of them knows. It blocks all the same
        /// when every participant voted YES and the coordinator is gone.
        public var cooperative = false
        /// The coordinators' client sessions (`sessionTimeout`, `sessionResults`).
        public var sessions = SessionOptions()
        public var bug = Bug.none

        public init() {}

        public static let documentation: [OptionDoc] = CommitTiming.documentation + [
            OptionDoc("decisionTimeout", values: "duration", default: "\"200ms\"", "an in-doubt participant asks for the decision after this long, and again as often"),
            OptionDoc("cooperative", values: "boolean", default: "false", "cooperative termination: in-doubt participants ask every participant, not only the coordinator"),
            .plantedBugs(Bug.self),
        ] + SessionOptions.documentation

        public mutating func set(_ name: String, to value: JSONValue) throws(OptionError) {
            if try timing.set(name, to: value) { return }
            if try sessions.set(name, to: value) { return }
            switch name {
            case "decisionTimeout": decisionTimeout = try value.positiveDuration(name)
            case "cooperative": cooperative = try value.boolOption(name)
            case "bug": bug = try value.choiceOption(name, as: Bug.self)
            default: throw OptionError.unknown(name, known: Self.documentation)
            }
        }
    }
}
