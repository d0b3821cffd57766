import AtomicCommit
import ConsensusCore

/// Two-phase commit (Gray & Lamport 2006) as write-all replication: every write is a transaction
/// that every node applies, coordinated by the node the client wrote to.
///
/// Flow of a committed write with N nodes, the coordinator being one of the participants:
/// PREPARE (N−1) → YES (N−1) → COMMIT (N−1) → ACK (N−1): 4(N−1) messages and two round trips, the
/// client answered after the first (when the decision is logged). The coordinator logs the
/// transaction before it asks and its decision before it sends it; a participant logs its YES
/// before it sends it and then holds the key's lock until it learns the outcome. A participant that
/// voted YES and hears nothing is *in doubt*: it asks the coordinator (with `cooperative`, every
/// participant) and, until someone who knows answers, blocks with the lock held — the price of 2PC
/// that the `coordinator-crash-after-prepare` scenario measures.
///
/// Recovery is from the log alone: a restarted coordinator re-sends each decision that was not
/// acknowledged by everyone, and aborts every transaction it started but had not decided (presumed
/// abort: without its decision nobody can have committed); a restarted participant asks about each
/// transaction it voted YES on.
public struct TwoPhaseCommit: ReplicationBackend {
    public static let protocolName = "2pc"
    public typealias Entry = TransactionRecord
    public typealias HardState = CommitHardState

    package internal(set) var core: CommitCore<TwoPhaseCommit>
    let options: Options

    public init(id: NodeID, cluster: [NodeID], options: Options, recovered: RecoveredState<TransactionRecord, CommitHardState>, seed: UInt64) {
        self.options = options
        let recovered = options.bug == .forgetYesVote ? Self.forgettingVotes(recovered, of: id) : recovered
        core = CommitCore(id: id, cluster: cluster, timing: options.timing, sessions: options.sessions, abortsAcknowledged: false, recovered: recovered)
    }

    public var nextDeadline: Instant? { core.nextDeadline }

    public var leadership: Leadership? { nil }

    public mutating func step(_ input: Input<Message>, at now: Instant, into out: inout Effects<TwoPhaseCommit>) {
        switch input {
        case .client(let request):
            if let transaction = core.submit(request, at: now, into: &out), core.roundComplete(transaction) {
                commit(transaction, at: now, into: &out)
            }
        case .receive(let from, let message):
            receive(message.body, from: from, at: now, into: &out)
        case .tick:
            for transaction in core.expire(at: now, into: &out) { inDoubt(transaction, at: now, into: &out) }
        }
    }

    private mutating func receive(_ message: CommitMessage, from node: NodeID, at now: Instant, into out: inout Effects<TwoPhaseCommit>) {
        switch message {
        case .voteRequest(let transaction, let request):
            core.vote(on: transaction, request, phase: Message.Kind.prepare.rawValue, at: now, timer: now + options.decisionTimeout, into: &out)
        case .vote(let transaction, let yes):
            switch core.recordAnswer(transaction, from: node, yes: yes, in: .voted, into: &out) {
            case .complete: commit(transaction, at: now, into: &out)
            case .refused: core.decide(transaction, commit: false, at: now, into: &out)
            case .waiting, .stale: break
            }
        case .decision(let transaction, let commit):
            core.learn(transaction, commit: commit, ackTo: node, into: &out)
        case .ack(let transaction):
            core.recordAck(transaction, from: node, into: &out)
        case .stateRequest(let transaction):
            core.report(transaction, to: node, into: &out)
        case .stateReport(let transaction, let state):
            // Only a decision helps; a peer that is in doubt too changes nothing (2PC blocks).
            if let commit = state.decision { core.learn(transaction, commit: commit, ackTo: nil, into: &out) }
        }
    }

    /// Every vote was YES: the decision is logged, then sent (Gray & Lamport 2006: the coordinator
    /// records COMMIT in its stable storage before it tells anyone). Planted bug
    /// `commit-before-log` lets COMMIT leave while the record is written: a coordinator that crashes
    /// in between restarts without a decision and presumes abort, though participants committed.
    private mutating func commit(_ transaction: TransactionID, at now: Instant, into out: inout Effects<TwoPhaseCommit>) {
        let first = out.messages.count
        core.decide(transaction, commit: true, at: now, into: &out)
        guard options.bug == .commitBeforeLog else { return }
        for index in first..<out.messages.count { out.messages[index].departure = .atOnce }
    }

    /// Planted bug `forget-yes-vote`: the log after a restart, with every YES this node gave another
    /// coordinator and has no decision for turned into a record that says nothing (`ended`; the
    /// indices stay where they are). The restarted participant holds no lock and is not in doubt,
    /// though the coordinator counted its vote — a YES is a promise that must survive crashes.
    static func forgettingVotes(_ recovered: RecoveredState<TransactionRecord, CommitHardState>,
                                of id: NodeID) -> RecoveredState<TransactionRecord, CommitHardState> {
        var decided: Set<TransactionID> = []
        for case .decided(let transaction, _) in recovered.entries { decided.insert(transaction) }
        var forgetful = recovered
        forgetful.entries = recovered.entries.map { record in
            guard case .prepared(let transaction, _, _) = record, transaction.coordinator != id, !decided.contains(transaction) else { return record }
            return .ended(transaction)
        }
        return forgetful
    }

    /// The timer of an undecided transaction fired: after a restart, or `decisionTimeout` after a
    /// YES vote without news.
    private mutating func inDoubt(_ transaction: TransactionID, at now: Instant, into out: inout Effects<TwoPhaseCommit>) {
        guard core.active[transaction]?.state == .voted else { return }
        if transaction.coordinator == core.id {
            // Presumed abort: a coordinator that restarts without having logged a decision never
            // sent one, so no participant can have committed.
            core.decide(transaction, commit: false, at: now, into: &out)
            return
        }
        core.ask(transaction, options.cooperative ? core.peers : [transaction.coordinator], into: &out)
        core.setTimer(transaction, at: now + options.decisionTimeout)
    }
}
