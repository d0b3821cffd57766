import ConsensusCore
import KVStore

/// The knobs of the primary–backup backend, named after the Redis and Sentinel settings they model.
///
/// Defaults are scaled from Redis's (1 s replica ACKs, 30 s `down-after-milliseconds`, 10 s
/// `min-replicas-max-lag`) to the lab's millisecond networks, keeping their ratios roughly: several
/// heartbeats per down-after period, several ACKs per allowed lag.
public struct PrimaryBackupOptions: SessionBackendOptions {
    /// Classic mistakes the lab plants on purpose (README § Planted bugs).
    public enum Bug: String, CaseIterable, Sendable {
        /// The correct protocol.
        case none
        /// A failover promotes the voter with the lowest id, not the one with the highest offset.
        case promoteStaleBackup = "promote-stale-backup"
    }

    /// How often the primary pings every node with an (empty) REPLICATE and every backup sends
    /// `REPLCONF ACK` to its primary (Redis: `repl-ping-replica-period`, ACK once a second).
    public var heartbeat: TimeSpan = .milliseconds(50)
    /// How long a node may go without hearing its primary before it considers it down and asks for a
    /// failover (Sentinel `down-after-milliseconds`), plus a random delay of up to half of it so that
    /// nodes do not all ask at once (Sentinel desynchronises its failover attempts the same way).
    public var downAfter: TimeSpan = .milliseconds(300)
    /// How long a failover attempt may take before a new one (in a new epoch) is started
    /// (Sentinel `failover-timeout`).
    public var failoverTimeout: TimeSpan = .milliseconds(500)
    /// Replication lag: the primary sends each write to its backups this long after acknowledging
    /// it (a slow replication path); `0ms` streams each write at once, as Redis does.
    public var replicationLag: TimeSpan = .zero
    /// Writes kept for partial resynchronisation (Redis `repl-backlog-size`, counted in writes): a
    /// backup further behind than this gets a full resync.
    public var backlog: Int = 1_000
    /// The primary refuses writes when fewer backups than this have acknowledged within
    /// `minReplicasMaxLag` (Redis `min-replicas-to-write`); 0 never refuses.
    public var minReplicasToWrite: Int = 0
    /// See `minReplicasToWrite` (Redis `min-replicas-max-lag`).
    public var minReplicasMaxLag: TimeSpan = .milliseconds(200)
    /// The state machine's client sessions (`sessionTimeout`, `sessionResults`).
    public var sessions = SessionOptions()
    public var bug = Bug.none

    public init() {}

    public static let documentation: [OptionDoc] = [
        OptionDoc("heartbeat", values: "duration", default: "\"50ms\"", "primary ping (empty REPLICATE) and backup REPLCONF ACK period"),
        OptionDoc("downAfter", values: "duration", default: "\"300ms\"", "silence after which a node considers the primary down and asks for a failover (Sentinel down-after-milliseconds; plus up to half of it at random)"),
        OptionDoc("failoverTimeout", values: "duration", default: "\"500ms\"", "a failover attempt that has not promoted anyone by then is retried in a new epoch (Sentinel failover-timeout)"),
        OptionDoc("replicationLag", values: "duration", default: "\"0ms\"", "each acknowledged write is sent to the backups this long after its acknowledgement; 0ms streams it at once"),
        OptionDoc("backlog", values: "integer ≥ 1", default: "1000", "writes kept for partial resync; a backup further behind gets a full resync (repl-backlog-size)"),
        OptionDoc("minReplicasToWrite", values: "integer ≥ 0", default: "0", "refuse writes unless this many backups acknowledged within minReplicasMaxLag (min-replicas-to-write); trades availability for fewer lost writes"),
        OptionDoc("minReplicasMaxLag", values: "duration", default: "\"200ms\"", "how recent a backup's acknowledgement must be to count for minReplicasToWrite (min-replicas-max-lag)"),
        .plantedBugs(Bug.self),
    ] + SessionOptions.documentation

    public mutating func set(_ name: String, to value: JSONValue) throws(OptionError) {
        if try sessions.set(name, to: value) { return }
        switch name {
        case "heartbeat": heartbeat = try Self.positive(value.durationOption(name), name)
        case "downAfter": downAfter = try Self.positive(value.durationOption(name), name)
        case "failoverTimeout": failoverTimeout = try Self.positive(value.durationOption(name), name)
        case "replicationLag": replicationLag = try value.durationOption(name)
        case "backlog": backlog = try value.intOption(name, minimum: 1)
        case "minReplicasToWrite": minReplicasToWrite = try value.intOption(name, minimum: 0)
        case "minReplicasMaxLag": minReplicasMaxLag = try Self.positive(value.durationOption(name), name)
        case "bug": bug = try value.choiceOption(name, as: Bug.self)
        default: throw OptionError.unknown(name, known: Self.documentation)
        }
    }

    /// A timer of zero length would fire on every tick; only the replication lag may be zero.
    private static func positive(_ duration: TimeSpan, _ name: String) throws(OptionError) -> TimeSpan {
        guard duration > .zero else { throw OptionError(name, "must be longer than 0ms, found \(duration)") }
        return duration
    }
}
