import ConsensusCore

/// A cross-shard transaction's coordinator: two-phase commit whose participants are server groups
/// (each a Raft group, so a participant's YES and locks survive any minority of its nodes) and
/// whose decision is written once into a replicated store (the metaserver, a Raft group) before
/// anyone is told it. So the coordinator itself is no single node either: any clerk that takes the
/// transaction over reads the decision back, and 2PC's blocking on a crashed coordinator (which
/// the lab shows for single-node participants) needs a majority of a group down — the point of
/// Spanner's Paxos-replicated participants. A pure state machine like `MetaClerk`.
///
/// Phases: PREPARE at every group the writes touch (in group order); a NO, or a group that
/// does not answer after `attempts` tries, decides abort. The decision is a compare-and-set of
/// `txn/<id>` expecting it absent, so of two clerks deciding one transaction the first wins and
/// the other adopts its decision. Then COMMIT or ABORT at every group prepared, until each answers.
public struct TransactionClerk: Sendable {
    public enum Target: Equatable, Sendable {
        case group(GroupID)
        /// The store holding decisions.
        case decisions
    }

    public enum Result: Equatable, Sendable {
        case committed
        /// Aborted; `reason` says why (a NO and its reason, or a group that did not answer).
        case aborted(reason: String)
    }

    private enum Phase: Equatable {
        case preparing(index: Int, tries: Int)
        case deciding(commit: Bool, reason: String)
        case confirming(commit: Bool, reason: String)
        case finishing(commit: Bool, reason: String, index: Int)
    }

    public let id: String
    /// The writes by the group that serves their keys, in group order.
    private let writes: [(group: GroupID, commands: [Command])]
    private let attempts: Int
    private var phase = Phase.preparing(index: 0, tries: 0)

    /// `writes` grouped by the owner of each key's bucket in `configuration`; nil when a key has no owner.
    public init?(id: String, writes: [Command], configuration: ShardConfiguration, attempts: Int = 5) {
        var byGroup: [GroupID: [Command]] = [:]
        for write in writes {
            guard let owner = configuration.owner(of: Bucket.of(key: write.key, count: configuration.owners.count)) else { return nil }
            byGroup[owner, default: []].append(write)
        }
        self.id = id
        self.writes = byGroup.keys.sorted().map { ($0, byGroup[$0]!) }
        self.attempts = attempts
    }

    public static func key(_ id: String) -> String { "txn/\(id)" }

    /// What to send now, and where.
    public var request: (target: Target, command: Command) {
        switch phase {
        case .preparing(let index, _):
            (.group(writes[index].group), ShardControl.prepare(transaction: id, writes[index].commands).command)
        case .deciding(let commit, _):
            (.decisions, .cas(key: Self.key(id), expected: nil, value: commit ? "commit" : "abort"))
        case .confirming:
            (.decisions, .get(key: Self.key(id)))
        case .finishing(let commit, _, let index):
            (.group(writes[index].group), (commit ? ShardControl.commit(transaction: id) : .abort(transaction: id)).command)
        }
    }

    /// Takes the answer to `request`; the outcome once every group knows it, else nil.
    public mutating func receive(_ outcome: Outcome) -> Result? {
        switch (phase, outcome) {
        case (.preparing(let index, _), .ok(.done)):
            phase = index + 1 < writes.count ? .preparing(index: index + 1, tries: 0) : .deciding(commit: true, reason: "")
        case (.preparing(let index, _), .ok(.value(let text?))) where ShardControl.reasonOfNo(text) != nil:
            phase = .deciding(commit: false, reason: "\(writes[index].group) voted no (\(ShardControl.reasonOfNo(text)!))")
        case (.preparing(let index, let tries), _):
            phase = tries + 1 < attempts ? .preparing(index: index, tries: tries + 1) : .deciding(commit: false, reason: "\(writes[index].group) did not answer")
        case (.deciding(let commit, let reason), .ok(.done)):
            phase = .finishing(commit: commit, reason: reason, index: 0)
        case (.deciding(let commit, let reason), .fail(.casMismatch)), (.deciding(let commit, let reason), .ok(.casMismatch)),
             (.deciding(let commit, let reason), .indeterminate):
            // Decided before (by another clerk, or by this write if it timed out): read what stands.
            phase = .confirming(commit: commit, reason: reason)
        case (.confirming(let commit, let reason), .ok(.value(let text?))):
            // Its own decision standing (its compare-and-set took effect unanswered) keeps its reason.
            phase = .finishing(commit: text == "commit", reason: text == "commit" ? "" : commit ? "decided abort before" : reason, index: 0)
        case (.confirming(let commit, let reason), .ok(.value(nil))):
            phase = .deciding(commit: commit, reason: reason)
        case (.finishing(let commit, let reason, let index), .ok(.done)):
            guard index + 1 < writes.count else { return commit ? .committed : .aborted(reason: reason) }
            phase = .finishing(commit: commit, reason: reason, index: index + 1)
        default:
            break  // no answer yet worth acting on: send the same request again
        }
        return nil
    }
}
