import ConsensusCore
import Raft

/// One Raft node driven by hand, message by message, as etcd's paper tests drive theirs: the
/// test plays every other server, so each rule of the paper can be exercised exactly.
struct ScriptedNode {
    var raft: Raft
    var now = Instant.zero
    /// Effects of the latest step.
    private(set) var out = Effects<Raft>()

    /// Node `id` of an `nodes`-node cluster, recovered with a snapshot (if any), then a log of
    /// entries of the given terms (no-ops: only terms matter to these tests) and the given hard
    /// state, started `startedAgo` before the test's first input (a node refuses votes just after
    /// it starts).
    init(id: Int = 1, nodes: Int = 3, options: RaftOptions = RaftOptions(), snapshot: Snapshot? = nil, terms: [Term] = [], term: Term = 0,
         votedFor: Int? = nil, startedAgo: TimeSpan = .seconds(1)) {
        let entries = terms.map { RaftEntry(term: $0, stamp: .zero, request: nil) }
        let hardState = RaftHardState(term: max(term, terms.last ?? snapshot?.lastTerm ?? 0), votedFor: votedFor.map(NodeID.init))
        raft = Raft(id: NodeID(id), cluster: NodeID.cluster(nodes), options: options,
                    recovered: RecoveredState(hardState: hardState, snapshot: snapshot, entries: entries), seed: 7)
        step(.tick)  // arms the election timer
        now = now + startedAgo
    }

    /// Feeds `input`. The disk is instant: the node's acknowledgements of its own writes (its
    /// vote, its log entries) come back within the same step, and `out` holds everything else.
    mutating func step(_ input: Input<RaftMessage>, after delay: TimeSpan = .zero) {
        now += delay
        out.removeAll()
        raft.step(input, at: now, into: &out)
        while let own = out.messages.firstIndex(where: { $0.to == raft.id }) {
            let message = out.messages.remove(at: own).message
            raft.step(.receive(from: raft.id, message: message), at: now, into: &out)
        }
    }

    mutating func receive(_ message: RaftMessage, from peer: Int, after delay: TimeSpan = .zero) {
        step(.receive(from: NodeID(peer), message: message), after: delay)
    }

    /// Advances to the node's next deadline and ticks.
    mutating func fireTimer() {
        let deadline = raft.nextDeadline!
        step(.tick, after: max(.zero, deadline - now))
    }

    /// Messages of the latest step, with their destinations.
    var sent: [(to: Int, message: RaftMessage)] { out.messages.map { ($0.to.rawValue, $0.message) } }
    var replies: [ClientReply] { out.replies }
    var storage: [PersistOp<RaftEntry, RaftHardState>] { out.storage }

    func sent(_ kind: RaftMessage.Kind) -> [RaftMessage] { out.messages.map(\.message).filter { $0.kind == kind } }

    /// Makes the node leader of the next term with votes from nodes 2 and 3 (PreVote first when on).
    mutating func elect() {
        fireTimer()
        if raft.role == .preCandidate {
            receive(.voteReply(VoteReply(term: raft.currentTerm + 1, granted: true, preVote: true)), from: 2)
        }
        receive(.voteReply(VoteReply(term: raft.currentTerm, granted: true, preVote: false)), from: 2)
    }

    /// The AppendEntries the latest step sent to `peer`.
    func append(to peer: Int) -> AppendEntries? {
        for (to, message) in sent where to == peer { if case .appendEntries(let request) = message { return request } }
        return nil
    }

    func appendReply() -> AppendReply? {
        for (_, message) in sent { if case .appendReply(let reply) = message { return reply } }
        return nil
    }

    func voteReply() -> VoteReply? {
        for (_, message) in sent { if case .voteReply(let reply) = message { return reply } }
        return nil
    }
}
