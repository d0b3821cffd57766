import ConsensusCore
import KVStore

/// Raft (Ongaro & Ousterhout, ATC 2014; Ongaro's thesis, 2014) as a pure state machine: leader
/// election with PreVote and CheckQuorum, log replication with batching and pipelining, commit by
/// majority in the leader's term, snapshots, and four read paths (ReadIndex, log, lease, unsafe local).
///
/// One `step` per input; everything the node wants done comes back as effects. The driver makes
/// storage operations durable before the step's messages and replies leave, which is how "persist
/// before you answer" (Figure 2) holds without the protocol knowing about disks.
public struct Raft: ReplicationBackend {
    public static let protocolName = "raft"
    public typealias Message = RaftMessage
    public typealias Entry = RaftEntry
    public typealias HardState = RaftHardState
    public typealias Options = RaftOptions
    package typealias Role = RaftRole

    /// The state lives in one copy-on-write box: drivers and checkers copy backends freely (to
    /// inspect them, to keep them in arrays), and a copy should cost one reference, not one per
    /// log, map and buffer the state holds. A shared box is never mutated (see `step`).
    private var box: Box

    private final class Box: @unchecked Sendable {
        var state: RaftState
        init(_ state: RaftState) { self.state = state }
    }

    public init(id: NodeID, cluster: [NodeID], options: RaftOptions, recovered: RecoveredState<RaftEntry, RaftHardState>, seed: UInt64) {
        box = Box(RaftState(id: id, cluster: cluster, options: options, recovered: recovered, seed: seed))
    }

    public mutating func step(_ input: Input<RaftMessage>, at now: Instant, into out: inout Effects<Raft>) {
        if !isKnownUniquelyReferenced(&box) { box = Box(box.state) }
        box.state.step(input, at: now, into: &out)
    }

    /// A fresh node asks for a tick at once, so it arms its election timer from the time it starts.
    public var nextDeadline: Instant? { box.state.nextDeadline }

    public var leadership: Leadership? { Leadership(role: role.labRole, term: currentTerm, leader: leader) }

    // MARK: Inspection (for checkers and tests)

    package var id: NodeID { box.state.id }
    /// Every server, sorted.
    package var cluster: [NodeID] { box.state.cluster }
    package var role: Role { box.state.role }
    package var currentTerm: Term { box.state.currentTerm }
    package var votedFor: NodeID? { box.state.votedFor }
    package var log: RaftLog { box.state.log }
    /// The leader of `currentTerm` as far as this node knows.
    package var leader: NodeID? { box.state.leader }
    package var commitIndex: LogIndex { box.state.commitIndex }
    package var lastApplied: LogIndex { box.state.lastApplied }
    /// The state machine, as applied through `lastApplied`.
    package var store: any ReplicatedStore { box.state.store }
    /// The latest snapshot taken, installed or recovered.
    package var snapshot: Snapshot? { box.state.snapshot }
    /// Lowest log index the latest step wrote, replaced or discarded (`nil`: the log was not
    /// touched), so that checkers can verify log changes incrementally.
    package var lastLogChange: LogIndex? { box.state.lastLogChange }
}
