import ConsensusCore
import KVStore

/// Raft's knobs, as a scenario sets them: `{"protocol": "raft", "options": {"read": "lease"}}`.
public struct RaftOptions: SessionBackendOptions {
    /// How a leader (or any node) answers a `get`.
    public enum ReadMode: String, CaseIterable, Sendable {
        /// Thesis §6.4: record the commit index, confirm leadership with a quorum round, wait until
        /// it is applied, answer from the state machine. Linearizable without clock assumptions.
        case readIndex
        /// The read is a log entry like a write: linearizable, and as expensive as a write.
        case log
        /// Thesis §6.4.1: the leader answers at once while its lease (counted from the start of a
        /// quorum-acknowledged round) lasts; correct only while clocks drift less than `clockDrift`.
        case lease
        /// Any node answers from its own state machine at once: fast, available, and stale — the
        /// deliberately unsafe mode the lab uses to show stale reads.
        case unsafeLocal
    }

    /// Classic mistakes the lab plants on purpose (README § Planted bugs); each breaks one rule of
    /// the paper or the thesis, at the line that enforces it.
    public enum Bug: String, CaseIterable, Sendable {
        /// The correct protocol.
        case none
        /// §5.4.2: a leader commits an earlier term's entry by counting replicas (Figure 8).
        case figure8
        /// §5.2, Figure 2: the vote reply leaves before the vote is durable, so a crash forgets it.
        case volatileVote = "volatile-vote"
        /// §5.4.1: votes are granted without checking that the candidate's log is up to date.
        case noElectionRestriction = "no-election-restriction"
        /// Thesis §6.4.1: the lease is not shortened by the clock-drift bound.
        case unboundedLease = "unbounded-lease"
        /// Thesis §6.4: the leader answers reads from its state machine without confirming leadership.
        case staleLeaderReads = "stale-leader-reads"
    }

    /// A follower that hears from no leader for a duration drawn from this range starts an
    /// election (§5.2); the lower bound is also the minimum election timeout of §4.2.3 and §6.2.
    public var electionTimeout: ClosedRange<TimeSpan> = .milliseconds(150)...(.milliseconds(300))
    /// How often a leader sends heartbeats (and starts a read round).
    public var heartbeat: TimeSpan = .milliseconds(50)
    /// Thesis §9.6: campaign only after a majority says it would vote, so a node that was cut
    /// off does not inflate terms and depose a working leader when it rejoins.
    public var preVote = true
    /// Thesis §6.2: a leader that hears from no majority for a minimum election timeout steps
    /// down, and followers that heard from a leader that recently ignore vote requests.
    public var checkQuorum = true
    public var read: ReadMode = .readIndex
    /// Pipelining bound: AppendEntries messages a leader keeps in flight to one follower.
    public var maxInflight = 4
    /// Most entries one AppendEntries carries; client commands that arrive while the pipeline
    /// is full are sent together.
    public var maxBatch = 256
    /// Admission control, as etcd raft's `MaxUncommittedEntriesSize` (counted in entries here): a
    /// leader drops a new client command, unanswered, while this many entries it appended for
    /// clients in its term are uncommitted; the client retries later. Without a bound, a load the
    /// cluster cannot keep up with builds a backlog that answers nobody in time — every client has
    /// given up on what is being committed — and outlasts the load by as long as it took to build.
    /// The default is what the default pipeline carries in one round (`maxInflight` × `maxBatch`),
    /// far above what ordinary load leaves uncommitted.
    public var maxUncommitted = 1_024
    /// Entries applied since the last snapshot before a node snapshots and compacts its log (§7);
    /// each node draws its actual threshold in [t, 1.5 t) so replicas do not snapshot together.
    public var snapshotThreshold = 10_000
    /// Most bytes of a snapshot one InstallSnapshot carries: a leader sends its snapshot in chunks
    /// of at most this size, one at a time (Figure 13's `offset`, `data` and `done`).
    public var snapshotChunk = 65_536
    /// Bound on clock drift assumed by leases: a lease lasts `electionTimeout.lower × (1 − clockDrift)`.
    public var clockDrift = 0.1
    /// The state machine's client sessions (`sessionTimeout`, `sessionResults`).
    public var sessions = SessionOptions()
    public var bug = Bug.none
    /// The state machine the log applies to: the key-value store, or a sharded store's server
    /// group. Set by code that builds a deployment, not by a scenario's options.
    public var stateMachine = StateMachineRecipe.keyValue

    public init() {}

    /// How long a lease lasts from the start of a round a majority acknowledged.
    ///
    /// Planted bug `unbounded-lease`: the full minimum election timeout, as if clocks never drifted —
    /// a leader whose clock runs slow then serves reads after a new leader may have been elected.
    public var leaseDuration: TimeSpan { electionTimeout.lowerBound.scaled(by: bug == .unboundedLease ? 1 : 1 - clockDrift) }

    /// Whether a follower that heard from a leader within the minimum election timeout ignores
    /// vote requests (§4.2.3). CheckQuorum needs it to keep leaders stable; leases need it for
    /// safety, because a lease assumes no new leader can be elected before it expires.
    var leaderStickiness: Bool { checkQuorum || read == .lease }

    public static let documentation: [OptionDoc] = [
        OptionDoc("electionTimeout", values: "[duration, duration]", default: "[\"150ms\", \"300ms\"]",
                  "randomized election timeout range (§5.2); the lower bound is the minimum election timeout"),
        OptionDoc("heartbeat", values: "duration", default: "\"50ms\"", "leader heartbeat interval"),
        OptionDoc("prevote", values: "boolean", default: "true", "PreVote (thesis §9.6): no term inflation by nodes that cannot win"),
        OptionDoc("checkQuorum", values: "boolean", default: "true",
                  "CheckQuorum (thesis §6.2): a leader without a majority steps down; followers in contact with a leader ignore votes"),
        OptionDoc("read", values: "readIndex | log | lease | unsafeLocal", default: "\"readIndex\"",
                  "how gets are served (thesis §6.4); unsafeLocal answers from any node's own state, stale reads included"),
        OptionDoc("maxInflight", values: "integer ≥ 1", default: "4", "AppendEntries messages in flight per follower (pipelining bound)"),
        OptionDoc("maxBatch", values: "integer ≥ 1", default: "256", "entries per AppendEntries (batching)"),
        OptionDoc("maxUncommitted", values: "integer ≥ 1", default: "1024",
                  "admission control (etcd's MaxUncommittedEntriesSize, in entries): a leader drops new commands, unanswered, while this many of its entries are uncommitted; clients retry"),
        OptionDoc("snapshotThreshold", values: "integer ≥ 1", default: "10000",
                  "applied entries before a snapshot; jittered per node within [t, 1.5t)"),
        OptionDoc("snapshotChunk", values: "integer ≥ 1", default: "65536",
                  "most snapshot bytes per InstallSnapshot: larger snapshots travel in chunks, one at a time (Figure 13)"),
        OptionDoc("clockDrift", values: "number in 0…0.9", default: "0.1",
                  "clock-drift bound for leases: lease = minimum election timeout × (1 − clockDrift)"),
        .plantedBugs(Bug.self),
    ] + SessionOptions.documentation

    public mutating func set(_ name: String, to value: JSONValue) throws(OptionError) {
        if try sessions.set(name, to: value) { return }
        switch name {
        case "electionTimeout": electionTimeout = try value.durationRangeOption(name)
        case "heartbeat":
            heartbeat = try value.durationOption(name)
            guard heartbeat > .zero else { throw OptionError(name, "must be longer than zero") }
        case "prevote": preVote = try value.boolOption(name)
        case "checkQuorum": checkQuorum = try value.boolOption(name)
        case "read": read = try value.choiceOption(name, as: ReadMode.self)
        case "maxInflight": maxInflight = try value.intOption(name, minimum: 1)
        case "maxBatch": maxBatch = try value.intOption(name, minimum: 1)
        case "maxUncommitted": maxUncommitted = try value.intOption(name, minimum: 1)
        case "snapshotThreshold": snapshotThreshold = try value.intOption(name, minimum: 1)
        case "snapshotChunk": snapshotChunk = try value.intOption(name, minimum: 1)
        case "clockDrift": clockDrift = try value.numberOption(name, in: 0...0.9)
        case "bug": bug = try value.choiceOption(name, as: Bug.self)
        default: throw OptionError.unknown(name, known: Self.documentation)
        }
    }
}
