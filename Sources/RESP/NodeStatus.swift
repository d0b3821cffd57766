import ConsensusCore

/// What `INFO` says about the node serving a connection, in its `consensus` section: the runtime
/// sets it on the connection before handing it a client's bytes, so the answer is as fresh as the
/// node's latest step. `conlab cluster status` reads it, as operators read Redis's `replication`
/// section.
public struct NodeStatus: Hashable, Sendable {
    public var node: NodeID
    public var protocolName: String
    /// The node process's start count (the one minted client ids carry).
    public var incarnation: UInt64
    /// Role, term or epoch and leader; `nil` for protocols without leaders.
    public var leadership: Leadership?
    /// The highest log index the node knows committed.
    public var commitIndex: LogIndex
    /// Group commit at work: syncs of the log, the writes they made durable, and the loop turns
    /// that synced (one sync per turn unless a released output wrote again in the same turn).
    public var syncs: Int
    public var syncedWrites: Int
    public var syncTurns: Int
    /// Inputs the node stepped (messages, requests, ticks, its own acknowledgements): the
    /// node loop's events, which a benchmark divides by the time taken.
    public var steps: Int

    public init(node: NodeID, protocolName: String, incarnation: UInt64, leadership: Leadership? = nil, commitIndex: LogIndex = 0,
                syncs: Int = 0, syncedWrites: Int = 0, syncTurns: Int = 0, steps: Int = 0) {
        self.node = node
        self.protocolName = protocolName
        self.incarnation = incarnation
        self.leadership = leadership
        self.commitIndex = commitIndex
        self.syncs = syncs
        self.syncedWrites = syncedWrites
        self.syncTurns = syncTurns
        self.steps = steps
    }

    /// The `# Consensus` section's lines, `name:value` as Redis writes them; an empty value for no
    /// role or no leader.
    var infoLines: [String] {
        ["# Consensus", "node:\(node)", "protocol:\(protocolName)", "incarnation:\(incarnation)",
         "role:\(leadership?.role.rawValue ?? "")", "term:\(leadership?.term ?? 0)",
         "leader:\(leadership?.leader.map(\.description) ?? "")", "commit_index:\(commitIndex)",
         "syncs:\(syncs)", "synced_writes:\(syncedWrites)", "sync_turns:\(syncTurns)", "steps:\(steps)"]
    }
}
