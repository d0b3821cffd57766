import ConsensusCore
import Sharding
import Simulator

/// What a driver recorded of one sharded run, before it is made one result (`ShardedRun.assemble`):
/// each group's and the metaserver's own result, the clients' operations, what the groups serve at
/// the end, and what the operator and the controller did. The simulator fills it from its
/// deployment, the real driver from its processes.
public struct ShardedParts {
    /// One group's (or the metaserver's) run: its events, fault levels, final states and counters,
    /// nodes numbered within it.
    public struct Scope {
        public var scope: GroupScope
        public var result: SimulationResult
        public var nodes: Int

        public init(_ scope: GroupScope, _ result: SimulationResult, nodes: Int) {
            self.scope = scope
            self.result = result
            self.nodes = nodes
        }
    }

    /// The groups in id order, then the metaserver: the order in which nodes are numbered.
    public var scopes: [Scope]
    /// The clients' operations, nodes numbered across the deployment (`globalNode`).
    public var history: [HistoryOperation]
    public var served: (state: [String: String], servedTwice: [Bucket: [GroupID]])
    public var changes: [ShardedDeployment.MadeChange]
    public var migrations: [MigrationWindow]
    /// The last configuration made.
    public var latest: ShardConfiguration
    /// The clients' cross-shard transactions.
    public var transactions = TransactionLedger()
    /// Every cross-shard transaction as each live replica decided it.
    public var decisions: [String: [NodeID: Bool]] = [:]

    public init(scopes: [Scope], history: [HistoryOperation], served: (state: [String: String], servedTwice: [Bucket: [GroupID]]),
                changes: [ShardedDeployment.MadeChange], migrations: [MigrationWindow], latest: ShardConfiguration) {
        self.scopes = scopes
        self.history = history
        self.served = served
        self.changes = changes
        self.migrations = migrations
        self.latest = latest
    }

    /// A node's number in the deployment as a whole: the scopes' nodes in their order (g1's
    /// n1…n3 are n1…n3, g2's n4…n6, …, the metaserver's last).
    public func globalNode(_ scope: GroupScope, _ node: NodeID) -> NodeID {
        NodeID(Self.offset(of: scope, sizes: scopes.map { ($0.scope, $0.nodes) }) + node.index + 1)
    }

    /// How many nodes come before `scope`'s first in that numbering.
    public static func offset(of scope: GroupScope, sizes: [(scope: GroupScope, nodes: Int)]) -> Int {
        var offset = 0
        for entry in sizes {
            if entry.scope == scope { return offset }
            offset += entry.nodes
        }
        return offset
    }
}
