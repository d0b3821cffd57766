import ConsensusCore
import KVStore

/// ZAB's options, named after ZooKeeper's configuration where one exists. Timeouts are counted in
/// ticks of `tickTime`, as ZooKeeper counts them; the defaults are ZooKeeper's ratios on a lab scale
/// (ZooKeeper ships tickTime 2000 ms, which would make every election in a 30-second scenario
/// last longer than a client's patience).
public struct ZabOptions: SessionBackendOptions {
    /// How a node answers a read.
    public enum ReadMode: String, CaseIterable, Sendable {
        /// ZooKeeper's default: the node the client is connected to answers from its own state.
        /// Sequentially consistent (a client never sees time go back) but possibly stale.
        case local
        /// The node first sends a `sync` through the leader, then reads locally once it has
        /// applied everything the leader had proposed: linearizable.
        case sync
    }

    /// Classic mistakes the lab plants on purpose (README § Planted bugs).
    public enum Bug: String, CaseIterable, Sendable {
        /// The correct protocol.
        case none
        /// A new leader takes writes and proposes them while its followers are still synchronising.
        case broadcastBeforeSync = "broadcast-before-sync"
    }

    public var read: ReadMode = .local
    /// The heartbeat unit: the leader pings followers every half tick.
    public var tickTime: TimeSpan = .milliseconds(100)
    /// Ticks a leader and its followers get for discovery and synchronisation.
    public var initLimit = 10
    /// Ticks without hearing from its leader after which a follower looks for a new one, and
    /// without hearing from a quorum after which a leader gives up.
    public var syncLimit = 5
    /// Fast Leader Election waits this long after a quorum agrees, for a better vote.
    public var finalizeWait: TimeSpan = .milliseconds(200)
    /// Cap of the exponential back-off between rounds of notifications while LOOKING.
    public var maxNotificationInterval: TimeSpan = .seconds(1)
    /// A snapshot after this many logged transactions, jittered per node over
    /// snapCount/2 … snapCount so that replicas do not all snapshot at once.
    public var snapCount = 10_000
    /// Committed transactions a leader keeps in memory to sync followers by DIFF (ZooKeeper's
    /// `committedLog`); a follower older than that gets a SNAP.
    public var commitLogCount = 500
    /// Most bytes of the state one SNAP message carries: a larger snapshot travels in chunks, one
    /// at a time (where ZooKeeper streams it over the follower's TCP connection).
    public var snapshotChunk = 65_536
    /// The state machine's client sessions (`sessionTimeout`, `sessionResults`).
    public var sessions = SessionOptions()
    public var bug = Bug.none

    public init() {}

    public static let documentation: [OptionDoc] = [
        OptionDoc("read", values: "local | sync", default: "\"local\"",
                  "local: answer from the node's own state (ZooKeeper's default; may be stale); sync: sync through the leader first (linearizable)"),
        OptionDoc("tickTime", values: "duration", default: "\"100ms\"", "ZooKeeper's tick: the leader pings every half tick; limits below count ticks"),
        OptionDoc("initLimit", values: "integer ≥ 1", default: "10", "ticks allowed for discovery and synchronisation with a new leader"),
        OptionDoc("syncLimit", values: "integer ≥ 1", default: "5", "ticks of silence after which a follower leaves its leader and a leader without a quorum steps down"),
        OptionDoc("finalizeWait", values: "duration", default: "\"200ms\"", "Fast Leader Election: wait after a quorum agrees, in case a better vote arrives"),
        OptionDoc("maxNotificationInterval", values: "duration", default: "\"1s\"", "Fast Leader Election: cap of the back-off between notification rounds"),
        OptionDoc("snapCount", values: "integer ≥ 2", default: "10000", "snapshot after snapCount/2 … snapCount logged transactions (jittered per node)"),
        OptionDoc("commitLogCount", values: "integer ≥ 1", default: "500", "committed transactions kept in memory for DIFF sync; older followers get SNAP"),
        OptionDoc("snapshotChunk", values: "integer ≥ 1", default: "65536", "most snapshot bytes per SNAP message: larger snapshots travel in chunks, one at a time"),
        .plantedBugs(Bug.self),
    ] + SessionOptions.documentation

    public mutating func set(_ name: String, to value: JSONValue) throws(OptionError) {
        if try sessions.set(name, to: value) { return }
        switch name {
        case "read": read = try value.choiceOption(name, as: ReadMode.self)
        case "tickTime": tickTime = try Self.positive(value.durationOption(name), name)
        case "initLimit": initLimit = try value.intOption(name, minimum: 1)
        case "syncLimit": syncLimit = try value.intOption(name, minimum: 1)
        case "finalizeWait": finalizeWait = try Self.positive(value.durationOption(name), name)
        case "maxNotificationInterval": maxNotificationInterval = try Self.positive(value.durationOption(name), name)
        case "snapCount": snapCount = try value.intOption(name, minimum: 2)
        case "commitLogCount": commitLogCount = try value.intOption(name, minimum: 1)
        case "snapshotChunk": snapshotChunk = try value.intOption(name, minimum: 1)
        case "bug": bug = try value.choiceOption(name, as: Bug.self)
        default: throw OptionError.unknown(name, known: Self.documentation)
        }
    }

    private static func positive(_ duration: TimeSpan, _ name: String) throws(OptionError) -> TimeSpan {
        guard duration > .zero else { throw OptionError(name, "must be longer than zero") }
        return duration
    }

    /// How long a follower waits for its leader during discovery and sync (ZooKeeper: initLimit × tickTime).
    public var initTimeout: TimeSpan { tickTime * Int64(initLimit) }
    /// How long silence may last once broadcasting (ZooKeeper: syncLimit × tickTime).
    public var syncTimeout: TimeSpan { tickTime * Int64(syncLimit) }
    /// The leader pings every half tick (ZooKeeper's `Leader.lead` loop).
    public var pingInterval: TimeSpan { tickTime / 2 }
    /// Handshake messages (FOLLOWERINFO, ACKEPOCH, the sync) are resent once a tick until answered:
    /// the lab's network loses and reorders messages, where ZooKeeper relies on TCP.
    var retransmitInterval: TimeSpan { tickTime }
}
