import ConsensusCore
import Raft
import Simulator

/// Raft's safety properties (Figure 3), checked after every node step through `afterStep`.
///
/// Checks are incremental so they stay cheap on long runs: a node's log is checked only from the
/// lowest index its last step touched (`Raft.lastLogChange`), commit and apply progress only over
/// the newly committed range, and leader completeness once per new leadership.
final class RaftInvariants {
    /// Election Safety: the leader seen in each term.
    private var leaderOfTerm: [Term: NodeID] = [:]
    /// Log Matching, inductively: the entry and the previous entry's term stored under each
    /// (index, term). If every log agrees with this map, logs that share an (index, term) share
    /// the whole prefix up to it.
    private var byIndexAndTerm: [IndexAndTerm: (entry: RaftEntry, previousTerm: Term)] = [:]
    /// State Machine Safety: the entry committed (and applied) at each index, by anyone.
    private(set) var decided: [RaftEntry?] = [nil]
    /// Where each client's request was decided (the latest occurrence).
    private(set) var indexOfClient: [ClientID: LogIndex] = [:]
    /// Every request decided at some index, by client and sequence number.
    private(set) var decidedRequests: Set<RequestKey> = []
    /// Decided entries that a different entry later replaced (only possible with unsafe storage).
    private(set) var overwritten: [RaftEntry] = []
    private var seen: [NodeID: NodeView] = [:]
    private(set) var violations: [String] = []
    /// Steps checked, so tests can show the checks ran.
    private(set) var steps = 0

    struct RequestKey: Hashable {
        var client: ClientID
        var sequence: UInt64
    }

    private struct IndexAndTerm: Hashable {
        var index: LogIndex
        var term: Term
    }

    private struct NodeView {
        var role: Raft.Role
        var term: Term
        var commitIndex: LogIndex
        var lastApplied: LogIndex
    }

    var highestDecided: LogIndex { decided.count - 1 }

    func check(_ sim: Simulation<Raft>, _ node: NodeID) {
        guard let raft = sim.backend(node) else { return }
        steps += 1
        let previous = seen[node]
        checkElectionSafety(raft, node, at: sim.now)
        checkLogMatching(raft, node, at: sim.now)
        // A restarted node starts again from its snapshot: its progress is counted afresh.
        let restarted = previous.map { raft.lastApplied < $0.lastApplied || raft.commitIndex < $0.commitIndex } ?? true
        let commitFrom = restarted ? raft.log.snapshotIndex : previous!.commitIndex
        recordDecided(raft, node, from: commitFrom, through: raft.commitIndex, what: "committed", at: sim.now)
        let applyFrom = restarted ? raft.log.snapshotIndex : previous!.lastApplied
        recordDecided(raft, node, from: applyFrom, through: raft.lastApplied, what: "applied", at: sim.now)
        if raft.role == .leader, previous?.role != .leader || previous?.term != raft.currentTerm {
            checkLeaderCompleteness(raft, node, at: sim.now)
        }
        seen[node] = NodeView(role: raft.role, term: raft.currentTerm, commitIndex: raft.commitIndex, lastApplied: raft.lastApplied)
    }

    private func fail(_ message: String, at time: Instant) {
        if violations.count < 20 { violations.append("at \(time): \(message)") }
    }

    private func checkElectionSafety(_ raft: Raft, _ node: NodeID, at time: Instant) {
        guard raft.role == .leader else { return }
        if let other = leaderOfTerm[raft.currentTerm], other != node {
            fail("election safety: \(other) and \(node) both lead term \(raft.currentTerm)", at: time)
        }
        leaderOfTerm[raft.currentTerm] = node
    }

    private func checkLogMatching(_ raft: Raft, _ node: NodeID, at time: Instant) {
        guard let changed = raft.lastLogChange else { return }
        let log = raft.log
        var index = max(changed, log.snapshotIndex + 1)
        while index <= log.lastIndex {
            let entry = log[index], previousTerm = log.term(at: index - 1)!
            let key = IndexAndTerm(index: index, term: entry.term)
            if let known = byIndexAndTerm[key] {
                if known.entry != entry || known.previousTerm != previousTerm {
                    fail("log matching: \(node) holds a different entry (or predecessor) at index \(index) term \(entry.term)", at: time)
                }
            } else {
                byIndexAndTerm[key] = (entry, previousTerm)
            }
            index += 1
        }
    }

    /// No two nodes commit or apply different entries at one index.
    private func recordDecided(_ raft: Raft, _ node: NodeID, from: LogIndex, through: LogIndex, what: String, at time: Instant) {
        var index = max(from, raft.log.snapshotIndex) + 1
        while index <= through {
            defer { index += 1 }
            let entry = raft.log[index]
            while decided.count <= index { decided.append(nil) }
            if let known = decided[index] {
                if known != entry {
                    fail("state machine safety: \(node) \(what) \(describe(entry)) at \(index), another node \(describe(known))", at: time)
                    overwritten.append(known)
                    decided[index] = entry
                    record(entry, at: index)
                }
            } else {
                decided[index] = entry
                record(entry, at: index)
            }
        }
    }

    private func record(_ entry: RaftEntry, at index: LogIndex) {
        guard let request = entry.request else { return }
        indexOfClient[request.client] = index
        decidedRequests.insert(RequestKey(client: request.client, sequence: request.sequence))
    }

    /// Durability against the log: acknowledged writes that were never decided, and
    /// acknowledged writes whose decided entry was later replaced. (A client's n-th operation
    /// carries sequence number n.)
    func acknowledgedButLost(_ history: [HistoryOperation]) -> (neverDecided: [HistoryOperation], overwritten: [HistoryOperation]) {
        let replaced = Set(overwritten.compactMap { $0.request.map { RequestKey(client: $0.client, sequence: $0.sequence) } })
        var sequence: [ClientID: UInt64] = [:]
        var neverDecided: [HistoryOperation] = [], lost: [HistoryOperation] = []
        for operation in history {
            sequence[operation.client, default: 0] += 1
            guard !operation.command.isRead, operation.outcome == .ok(.done) else { continue }
            let key = RequestKey(client: operation.client, sequence: sequence[operation.client]!)
            if replaced.contains(key) { lost.append(operation) } else if !decidedRequests.contains(key) { neverDecided.append(operation) }
        }
        return (neverDecided, lost)
    }

    /// Leader Completeness: a new leader holds every entry committed before its term.
    private func checkLeaderCompleteness(_ raft: Raft, _ node: NodeID, at time: Instant) {
        let log = raft.log
        guard log.lastIndex >= highestDecided else {
            fail("leader completeness: \(node) leads term \(raft.currentTerm) with last index \(log.lastIndex) < committed \(highestDecided)", at: time)
            return
        }
        var index = log.snapshotIndex + 1
        while index <= highestDecided {
            if let known = decided[index], log[index] != known {
                fail("leader completeness: \(node) leads term \(raft.currentTerm) without committed entry \(index)", at: time)
                return
            }
            index += 1
        }
    }

    private func describe(_ entry: RaftEntry) -> String {
        "term \(entry.term) " + (entry.request.map { "\($0.command) from \($0.client)#\($0.sequence)" } ?? "no-op")
    }
}
