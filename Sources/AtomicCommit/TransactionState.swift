/// Where a node stands on one transaction, in Skeen's (1981) vocabulary: what a state request is
/// answered with, and what a participant's timeout acts on.
public enum TransactionState: UInt8, Hashable, Sendable, CustomStringConvertible {
    /// Voted YES and knows no decision ("uncertain"): holds the key's lock.
    case voted
    /// 3PC: accepted PreCommit, so it knows every participant voted YES ("committable").
    case preCommitted
    case committed
    case aborted

    /// The decision, for the two final states.
    public var decision: Bool? {
        switch self {
        case .committed: true
        case .aborted: false
        case .voted, .preCommitted: nil
        }
    }

    init(decision commit: Bool) { self = commit ? .committed : .aborted }

    public var description: String {
        switch self {
        case .voted: "voted"
        case .preCommitted: "pre-committed"
        case .committed: "committed"
        case .aborted: "aborted"
        }
    }
}
