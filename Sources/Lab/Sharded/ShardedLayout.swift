import ConsensusCore
import Sharding
import Simulator

/// A scenario's sharded deployment (`"sharded": {"groups": 3, "nodesPerGroup": 3, "buckets": 16,
/// "metaserver": 3}`): server groups g1…gN of Raft nodes serving buckets of the key space, a
/// metaserver group keeping the configuration chain, and configuration changes on the fault
/// timeline (`{"at": "10s", "join": "g4"}`, `leave`, `move`).
public struct ShardedLayout: Sendable {
    /// The groups of the first configuration, made at time zero: g1…g`groups`.
    public var groups: Int
    public var nodesPerGroup: Int
    public var buckets: Int
    public var metaserverNodes: Int
    /// A planted mistake in every group's store (`"bug": "serve-while-leaving"`); `.none` by default.
    public var bug: ShardStore.Bug = .none
    /// The share of client operations that are cross-shard transactions, and their size.
    public var transactions = ShardClients.TransactionMix()
    /// Configuration changes in time order.
    public var changes: [ScheduledChange] = []
    /// Fault steps aimed at one group (`"leader of g2"`, `"group": "g2"`) or at the metaserver; the
    /// scenario's `faults` are the steps that act in every group alike.
    public var scopedFaults: [ScopedFault] = []

    /// A configuration change at a time of the run.
    public struct ScheduledChange: Sendable {
        public var at: Instant
        public var change: ConfigurationChange

        public init(at: Instant, change: ConfigurationChange) {
            self.at = at
            self.change = change
        }
    }

    public struct ScopedFault: Sendable {
        public var scope: GroupScope
        public var step: FaultStep
    }

    /// The scenario's clients: `clientsPerNode` per group of the first configuration, so that the
    /// same workload meets groups of any size (single nodes and Raft groups alike).
    public func clients(_ workload: WorkloadConfig) -> Int { workload.clientsPerNode * groups }

    /// Every group that ever exists: those of the first configuration and every group a change
    /// names. A group that joins later runs from the start, idle until it owns buckets.
    public var groupIDs: [GroupID] {
        var ids = Set((1...groups).map(GroupID.init))
        for scheduled in changes {
            if case .join(let joining) = scheduled.change { ids.formUnion(joining.keys) }
        }
        return ids.sorted()
    }

    /// The first configuration's change: every initial group joins.
    public var initialChange: ConfigurationChange { .join(Dictionary(uniqueKeysWithValues: (1...groups).map { (GroupID($0), servers(of: GroupID($0))) })) }

    /// The names a configuration lists for a group's servers (clients reach a group through them).
    func servers(of group: GroupID) -> [String] { (1...nodesPerGroup).map { "\(group).n\($0)" } }

    /// The faults of one group's (or the metaserver's) simulation: the steps for every group, then
    /// its own, then the nemesis's draw for it (each group's from a seed of its own).
    func faults(for scope: GroupScope, everywhere: [FaultStep], nemesis: Nemesis?, seed: UInt64, duration: TimeSpan) -> [FaultStep] {
        let nodes = scope == .metaserver ? metaserverNodes : nodesPerGroup
        return everywhere + scopedFaults.filter { $0.scope == scope }.map(\.step)
            + (nemesis?.schedule(seed: DeterministicRandom.derive(seed, "nemesis-\(scope)"), nodes: nodes, duration: duration) ?? [])
    }
}
