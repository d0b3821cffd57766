/// What a node is doing, with the state that only that role has: a LEADING node always has its
/// session, a FOLLOWING node its connection to its leader, a LOOKING node its ballot, and no code
/// can reach the state of a role the node is not in. `Zab.state` is derived from it.
enum ZabRole {
    /// Not started: the first tick starts the first election (`init` cannot send).
    case starting
    case looking(FastLeaderElection)
    case following(FollowerSession)
    case leading(LeaderSession)
    /// Holds the place of a session that `Zab.withLeaderSession` and its siblings took out to
    /// modify in place: while the enum still held it, its arrays would be shared and copied on
    /// the first write (swift-nio's state machines use the same device). Never seen outside them.
    case modifying

    var state: ServerState {
        switch self {
        case .starting, .looking: .looking
        case .following: .following
        case .leading: .leading
        case .modifying: preconditionFailure("a role was read while its session was out for modification")
        }
    }
}
