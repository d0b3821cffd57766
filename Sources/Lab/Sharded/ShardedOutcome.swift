import ConsensusCore
import Sharding

/// What a sharded run shows besides the common report: per group, per bucket move, per
/// configuration change and per cross-shard transaction.
public struct ShardedOutcome: Sendable {
    public var groups: [GroupRow]
    public var migrations: [MigrationWindow]
    public var changes: [ShardedDeployment.MadeChange]
    public var transactions: [TransactionLedger.FinishedTransaction]
}

/// One server group of a sharded run.
public struct GroupRow: Sendable {
    public var group: GroupID
    /// Its nodes, numbered across the deployment.
    public var nodes: [NodeID]
    /// Elections won after the group's first leader.
    public var leaderChanges: Int
    /// Buckets the last configuration gives it.
    public var bucketsAtEnd: Int
}
