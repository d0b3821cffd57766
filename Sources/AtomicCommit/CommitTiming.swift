import ConsensusCore

/// The timing options both protocols share.
public struct CommitTiming: Hashable, Sendable {
    /// How long a coordinator waits for every vote before it aborts (a participant may be down).
    public var voteTimeout: TimeSpan = .milliseconds(100)
    /// How often an unanswered message (a vote request, a decision, a 3PC PreCommit) is re-sent.
    public var retransmit: TimeSpan = .milliseconds(20)

    package init() {}

    package static let documentation: [OptionDoc] = [
        OptionDoc("voteTimeout", values: "duration", default: "\"100ms\"", "the coordinator aborts when a vote is missing after this long"),
        OptionDoc("retransmit", values: "duration", default: "\"20ms\"", "unanswered vote requests, PreCommits and decisions are re-sent this often"),
    ]

    /// Applies `name` if it is one of the shared options; false if it is not.
    package mutating func set(_ name: String, to value: JSONValue) throws(OptionError) -> Bool {
        switch name {
        case "voteTimeout": voteTimeout = try value.positiveDuration(name)
        case "retransmit": retransmit = try value.positiveDuration(name)
        default: return false
        }
        return true
    }
}

extension JSONValue {
    /// A timer length: zero would make a node act again at the instant it acted.
    package func positiveDuration(_ name: String) throws(OptionError) -> TimeSpan {
        let duration = try durationOption(name)
        guard duration > .zero else { throw OptionError(name, "must be longer than zero") }
        return duration
    }
}
