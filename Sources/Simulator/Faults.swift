import ConsensusCore
import Storage

/// Which node a fault step means. Role targets resolve when the step fires, per backend: the
/// schedule is identical for every backend, the node it hits may not be.
public enum NodeRef: Hashable, Sendable, CustomStringConvertible {
    case id(NodeID)
    /// The node that currently leads (highest term among live nodes reporting the leader role).
    case leader
    /// The live node with the lowest id that is not the leader (with no leader: the lowest live node).
    case follower
    /// The node that most recently started coordinating a transaction (2PC/3PC).
    case coordinator
    /// A live node drawn from the fault generator.
    case random
    /// Every node currently crashed (for `restart`) or paused (for `resume`).
    case affected
    /// The node at which the step's trigger fired (steps with a `when` only): "crash whichever
    /// node grants a vote, 50 µs after it sends the grant".
    case eventNode

    public var description: String {
        switch self {
        case .id(let node): node.description
        case .leader: "leader"
        case .follower: "follower"
        case .coordinator: "coordinator"
        case .random: "random"
        case .affected: "affected"
        case .eventNode: "event-node"
        }
    }
}

/// Named partition shapes (FAULTS.md), resolved against the cluster when the step fires.
public enum PartitionShape: Hashable, Sendable, CustomStringConvertible {
    /// One node alone.
    case isolate(NodeRef)
    /// A minority (⌊(n−1)/2⌋ nodes) cut off from the majority; `leaderIn` says on which side the
    /// current leader must be (`nil`: wherever the draw puts it).
    case majorityMinority(leaderIn: Side?)
    /// Two halves (⌊n/2⌋ and ⌈n/2⌉).
    case halves
    /// Two halves that both see one bridge node, which sees everyone (Jepsen's "bridge"). The
    /// bridge is never the current leader, so one half cannot hear the leader.
    case bridge
    /// Nodes on a ring each see their nearest neighbours, forming a majority; no two nodes see the
    /// same majority (Jepsen's "majorities ring").
    case majoritiesRing

    public enum Side: String, Hashable, Sendable { case majority, minority }

    public var description: String {
        switch self {
        case .isolate(let node): "isolate(\(node))"
        case .majorityMinority(let side): side.map { "majority-minority(leader in \($0.rawValue))" } ?? "majority-minority"
        case .halves: "halves"
        case .bridge: "bridge"
        case .majoritiesRing: "majorities-ring"
        }
    }
}

/// A change to how links behave, applied to all node links or to those touching `nodes`.
public struct LinkChange: Hashable, Sendable {
    public var latency: LatencyDistribution?
    public var loss: Double?
    public var duplicate: Double?
    public var reorder: Double?
    public var reorderDelay: LatencyDistribution?
    /// Only links from or to these nodes; nil for every link.
    public var nodes: [NodeRef]?

    public init(latency: LatencyDistribution? = nil, loss: Double? = nil, duplicate: Double? = nil, reorder: Double? = nil,
                reorderDelay: LatencyDistribution? = nil, nodes: [NodeRef]? = nil) {
        self.latency = latency
        self.loss = loss
        self.duplicate = duplicate
        self.reorder = reorder
        self.reorderDelay = reorderDelay
        self.nodes = nodes
    }

    package func applied(to profile: LinkProfile) -> LinkProfile {
        var result = profile
        if let latency { result.latency = latency }
        if let loss { result.loss = loss }
        if let duplicate { result.duplicate = duplicate }
        if let reorder { result.reorder = reorder }
        if let reorderDelay { result.reorderDelay = reorderDelay }
        return result
    }
}

/// What a fault step does.
public enum FaultAction: Hashable, Sendable, CustomStringConvertible {
    /// Explicit groups; nodes in no group are isolated.
    case partition([[NodeRef]])
    case partitionShape(PartitionShape)
    /// Messages from `from` to `to` are dropped; the reverse direction still works.
    case oneWay(from: [NodeRef], to: [NodeRef])
    /// Messages of these kinds (the protocol's `Message.Kind` raw values) from `from` to `to` are
    /// lost; everything else flows. Undone by `heal`.
    case drop(kinds: [String], from: [NodeRef], to: [NodeRef])
    /// Every link restored, dropped message kinds included (link behaviour changes stay; see
    /// `restoreNetwork`).
    case heal
    case crash(NodeRef)
    /// Restarts a crashed node from what its storage synced (or starts a node for the first time).
    case restart(NodeRef)
    case pause(NodeRef)
    case resume(NodeRef)
    case network(LinkChange)
    /// Link behaviour back to the scenario's network.
    case restoreNetwork
    /// The node takes `factor` times longer to process each input (grey failure).
    case slow(NodeRef, factor: Double)
    /// The node's clock runs at `rate` (1 is true time): its timers fire late (rate < 1) or early.
    case clockRate(NodeRef, rate: Double)
    /// A protocol-level fault (a participant voting no).
    case inject(NodeRef, InjectedFault)
    /// The node's simulated disk misbehaves now: a bit of a synced byte flips, or its next sync is
    /// lost or misdirected (file engine only; found when the node next recovers).
    case disk(NodeRef, DiskFault)

    public var description: String {
        switch self {
        case .partition(let groups): "partition " + groups.map { "[" + $0.map(\.description).joined(separator: ",") + "]" }.joined(separator: " | ")
        case .partitionShape(let shape): "partition \(shape)"
        case .oneWay(let from, let to): "one-way cut \(from.map(\.description).joined(separator: ",")) -/-> \(to.map(\.description).joined(separator: ","))"
        case .drop(let kinds, let from, let to): "drop \(kinds.joined(separator: ",")) \(from.map(\.description).joined(separator: ",")) -/-> \(to.map(\.description).joined(separator: ","))"
        case .heal: "heal"
        case .crash(let node): "crash \(node)"
        case .restart(let node): "restart \(node)"
        case .pause(let node): "pause \(node)"
        case .resume(let node): "resume \(node)"
        case .network(let change): "network change" + (change.loss.map { " loss=\($0)" } ?? "") + (change.duplicate.map { " duplicate=\($0)" } ?? "")
            + (change.reorder.map { " reorder=\($0)" } ?? "") + (change.latency.map { " latency=\($0)" } ?? "")
        case .restoreNetwork: "network restored"
        case .slow(let node, let factor): "slow \(node) ×\(JSONValue.format(factor))"
        case .clockRate(let node, let rate): "clock of \(node) at rate \(JSONValue.format(rate))"
        case .inject(let node, let fault):
            switch fault {
            case .reject(let phase, let count):
                switch count {
                case InjectedFault.everyTime: "\(node) rejects every \(phase ?? "phase") from now on"
                case 1: "\(node) rejects the next \(phase ?? "phase")"
                default: "\(node) rejects the next \(count) \(phase ?? "phase")s"
                }
            }
        case .disk(let node, let fault): "disk \(fault.rawValue) \(node)"
        }
    }
}

/// A protocol event that fires a fault step, so that the exact window that matters (after
/// PREPARE, before COMMIT) is hit on every seed.
public struct Trigger: Hashable, Sendable {
    public enum Event: Hashable, Sendable {
        /// A message of this kind (the protocol's `Message.Kind` raw value) is about to leave a node.
        /// The fault applies before it leaves.
        case sent(kind: String)
        /// A message of this kind is about to be delivered. The fault applies before delivery.
        case received(kind: String)
        /// A node takes this role.
        case role(Role)
        /// A node reports entries committed up to at least this index.
        case committed(LogIndex)
    }

    public var event: Event
    /// Only events at this node (for `sent`: the sender; `received`: the receiver); nil for any.
    public var node: NodeRef?
    /// Fire on the n-th matching event (1 = the first).
    public var occurrence: Int
    /// Do not count events before this time.
    public var notBefore: Instant
    /// Delay between the event and the fault.
    public var delay: TimeSpan

    public init(_ event: Event, node: NodeRef? = nil, occurrence: Int = 1, notBefore: Instant = .zero, delay: TimeSpan = .zero) {
        self.event = event
        self.node = node
        self.occurrence = occurrence
        self.notBefore = notBefore
        self.delay = delay
    }
}

/// One step of the fault timeline: an action at a time or when a trigger fires.
public struct FaultStep: Hashable, Sendable {
    public enum When: Hashable, Sendable {
        case at(Instant)
        case on(Trigger)
    }

    public var when: When
    public var action: FaultAction

    public init(at time: Instant, _ action: FaultAction) {
        when = .at(time)
        self.action = action
    }

    public init(on trigger: Trigger, _ action: FaultAction) {
        when = .on(trigger)
        self.action = action
    }
}
