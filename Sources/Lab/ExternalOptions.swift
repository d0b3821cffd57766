import ConsensusCore

/// etcd's options as a scenario sets them. The default is etcd 3.4 as Debian ships it; the timing
/// options let it run on our Raft's timing, so that election and recovery times compare protocols
/// rather than configurations (`Experiments/alternatives.json` runs both).
public struct EtcdOptions: BackendOptions, Hashable {
    /// How a range is served; `serializable`: the member answers from its own state, without a
    /// read index.
    public enum Read: String, CaseIterable, Sendable { case linearizable, serializable }

    public var read = Read.linearizable
    /// `--heartbeat-interval`, etcd's tick.
    public var heartbeat: TimeSpan = .milliseconds(100)
    /// `--election-timeout`: etcd draws each follower's timeout in [t, 2t) (whole ticks), so
    /// 150 ms with a 30 ms tick is our Raft's default range of 150–300 ms.
    public var electionTimeout: TimeSpan = .milliseconds(1_000)
    /// `--pre-vote` (thesis §9.6), off by default in etcd 3.4, on in our Raft.
    public var preVote = false

    public init() {}

    public static let documentation = [
        OptionDoc("read", values: "linearizable | serializable", default: "\"linearizable\"",
                  "linearizable: a range through the leader's read index; serializable: the member answers from its own state"),
        OptionDoc("heartbeat", values: "duration (whole ms)", default: "\"100ms\"", "--heartbeat-interval"),
        OptionDoc("electionTimeout", values: "duration (whole ms, ≥ 5 × heartbeat)", default: "\"1000ms\"",
                  "--election-timeout; etcd draws each timeout in [t, 2t)"),
        OptionDoc("prevote", values: "boolean", default: "false", "--pre-vote"),
    ]

    public mutating func set(_ name: String, to value: JSONValue) throws(OptionError) {
        switch name {
        case "read": read = try value.choiceOption(name, as: Read.self)
        case "heartbeat": heartbeat = try value.wholeMillisecondsOption(name)
        case "electionTimeout": electionTimeout = try value.wholeMillisecondsOption(name)
        case "prevote": preVote = try value.boolOption(name)
        default: throw .unknown(name, known: Self.documentation)
        }
    }

    /// etcd refuses to start with an election timeout under five ticks; say so before it starts.
    func validate() throws(OptionError) {
        guard electionTimeout >= heartbeat * 5 else {
            throw OptionError("electionTimeout", "etcd needs at least 5 × heartbeat (\(heartbeat * 5)), found \(electionTimeout)")
        }
    }
}

/// Redis with Sentinel's options as a scenario sets them.
public struct RedisSentinelOptions: BackendOptions, Hashable {
    /// Where a GET goes; `replica`: to the client's own node, primary or replica.
    public enum Read: String, CaseIterable, Sendable { case primary, replica }

    public var read = Read.primary

    public init() {}

    public static let documentation = [
        OptionDoc("read", values: "primary | replica", default: "\"primary\"",
                  "primary: every request to Sentinel's primary; replica: a GET to the client's own node, primary or replica"),
    ]

    public mutating func set(_ name: String, to value: JSONValue) throws(OptionError) {
        guard name == "read" else { throw .unknown(name, known: Self.documentation) }
        read = try value.choiceOption(name, as: Read.self)
    }
}

extension JSONValue {
    /// A positive duration in whole milliseconds: etcd's flags take milliseconds.
    func wholeMillisecondsOption(_ name: String) throws(OptionError) -> TimeSpan {
        let span = try durationOption(name)
        guard span > .zero, span.microseconds % 1_000 == 0 else {
            throw OptionError(name, "etcd takes a positive whole number of milliseconds, found \(span)")
        }
        return span
    }
}
