import ConsensusCore

/// Everything a `conlab load` run is given; the defaults are the command's.
public struct LoadOptions: Hashable, Sendable {
    public var target: LoadTarget
    /// Closed-loop clients, each on a thread and connection of its own.
    public var clients = 16
    /// How long operations are counted.
    public var duration = TimeSpan.seconds(10)
    /// How long clients run before counting starts: connections, caches and the leader warm up.
    public var warmup = TimeSpan.seconds(1)
    public var mix = OperationMix.standard
    /// Keys `key:0` … `key:<keys-1>`, chosen uniformly.
    public var keys = 1_000
    /// The length of each value `put` and `cas` write and each suffix `append` adds.
    public var valueBytes = 64
    /// A file to append the run's CSV row to.
    public var csv: String?
    /// Whether every key is written once before the run; `nil`: when the mix has more than `put`
    /// (a `get` of a key never written measures a miss; a `cas` needs a value to compare).
    public var preload: Bool?
    /// Seeds each client's choice of operations, keys and values.
    public var seed: UInt64 = 1
    /// The longest a client waits for one answer (and for a connection).
    public var timeout = TimeSpan.seconds(10)
    /// etcd only: ranges answered from the member's own state (`"serializable": true`) rather than
    /// linearizably through the leader.
    public var etcdSerializable = false

    public init(target: LoadTarget) { self.target = target }

    /// Whether this run writes every key first.
    public var preloads: Bool { preload ?? (mix.shares.map(\.kind) != [.put]) }
}
