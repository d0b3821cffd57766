/// A replication protocol as a pure state machine: inputs in, effects out.
///
/// In the spirit of etcd's raft `Step`/`Ready` and swift-cluster-membership's directives: a backend
/// never reads a clock, touches a socket or a file, or draws randomness of its own. The simulator and
/// a real runtime are two drivers of the same code.
///
/// Driving rules every driver follows (and every backend may rely on):
/// 1. Effects of one step are applied in order: storage operations (made durable before anything
///    else leaves the node), then messages, then client replies. Events are observations only.
/// 2. After every step the driver reads `nextDeadline` and delivers `.tick` no earlier than it.
///    A `.tick` may also arrive early or spuriously; a backend checks its own timers.
/// 3. After a crash the driver rebuilds the backend with `init(…recovered:…)` from what its storage
///    had synced; nothing else survives.
public protocol ReplicationBackend: Sendable {
    /// The protocol's own wire messages.
    associatedtype Message: WireMessage
    /// One durable log record.
    associatedtype Entry: BinaryCodable & Sendable
    /// The protocol's durable metadata (Raft: term and vote; ZAB: accepted and current epoch).
    associatedtype HardState: BinaryCodable & Sendable & Equatable
    /// Protocol options a scenario can set (`read`, `prevote`, …).
    associatedtype Options: BackendOptions

    /// `"raft"`, `"2pc"`, `"3pc"`, `"zab"`, `"unreplicated"`: the `protocol` column of `summary.csv`.
    static var protocolName: String { get }

    init(id: NodeID, cluster: [NodeID], options: Options, recovered: RecoveredState<Entry, HardState>, seed: UInt64)

    /// When the node next wants a `.tick`, in its own clock's time; `nil` if it has no timer armed.
    var nextDeadline: Instant? { get }

    /// Feeds one input; appends what the node wants done to `out` (which the driver empties between steps).
    mutating func step(_ input: Input<Message>, at now: Instant, into out: inout Effects<Self>)

    /// Whom the node follows or leads, as the lab compares it across protocols after a run; `nil`
    /// for protocols without leaders (atomic commit, the unreplicated server).
    var leadership: Leadership? { get }
}

/// Everything that can happen to a node.
public enum Input<Message: Sendable>: Sendable {
    /// Time has advanced to (or past) `nextDeadline`.
    case tick
    /// A protocol message from a peer.
    case receive(from: NodeID, message: Message)
    /// A client request delivered to this node.
    case client(ClientRequest)
}
