/// Whom a node takes to lead, and in which term or epoch: the lab reads it after a run to check
/// the liveness promise of leader-based protocols (once every fault is undone, every live node
/// follows one leader of the latest term).
public struct Leadership: Hashable, Sendable, CustomStringConvertible {
    public var role: Role
    /// Raft's term, ZAB's epoch, the primary–backup configuration epoch.
    public var term: UInt64
    /// The leader this node works with (or itself, when it leads and serves); `nil` while it knows
    /// of none it can work with: an election runs, or the leader's epoch is not yet established.
    public var leader: NodeID?

    public init(role: Role, term: UInt64, leader: NodeID?) {
        self.role = role
        self.term = term
        self.leader = leader
    }

    public var description: String { "\(role.rawValue) of term \(term)" + (leader.map { " under \($0)" } ?? ", no leader") }
}
