/// A state a protocol's own invariants exclude, which a backend noticed and reported instead of
/// stopping the run. Correct backends under the faults they promise to survive never report one;
/// the lab counts them (`safety_violations` in `summary.csv`) and the conformance suite asserts
/// there are none where the backend promises safety. Some protocols report them by design: 3PC's
/// participants decide differently across a partition.
public struct SafetyViolation: Hashable, Sendable, CustomStringConvertible {
    public var rule: SafetyRule
    /// What happened, in words, with the nodes and indexes involved.
    public var detail: String

    public init(_ rule: SafetyRule, _ detail: String) {
        self.rule = rule
        self.detail = detail
    }

    public var description: String { "\(rule.rawValue): \(detail)" }
}

/// The invariant a `SafetyViolation` breaks. The raw value names it in `events.csv`.
public enum SafetyRule: String, Hashable, Sendable, CaseIterable {
    /// Two leaders of one term (Raft's Election Safety, §5.2).
    case electionSafety = "election-safety"
    /// A committed entry replaced or truncated (Raft's Leader Completeness and State Machine
    /// Safety; ZAB never truncates what a replica delivered).
    case committedEntryOverwritten = "committed-entry-overwritten"
    /// A follower's acknowledged history goes beyond its new leader's (ZAB: the elected leader
    /// holds every transaction a quorum accepted; primary–backup: the promoted backup holds at
    /// least what every voter its failover counted held, as Sentinel promotes the most
    /// up-to-date replica).
    case historyBeyondLeader = "history-beyond-leader"
    /// A synchronisation from the leader (ZAB's DIFF, TRUNC or SNAP) that does not fit the
    /// follower's history: a gap, a truncation point it does not hold, an unreadable snapshot.
    case inconsistentSync = "inconsistent-sync"
    /// A transaction told to commit where it aborted, or the reverse (atomic commitment's
    /// agreement).
    case conflictingDecision = "conflicting-decision"
    /// Two server groups of a sharded store serving one bucket: both accept writes for its keys
    /// (`ShardStore`'s rule: a bucket has one writer or none).
    case bucketServedTwice = "bucket-served-twice"
}
