import AtomicCommit
import ConsensusCore

/// Three-phase commit (Skeen 1981) as write-all replication, with the timeout rules the seeds
/// describe: a participant that voted YES and gets no PreCommit in time aborts; one that is
/// pre-committed and gets no decision in time commits.
///
/// Flow of a committed write with N nodes, the coordinator being one of the participants:
/// CANCOMMIT → YES → PRECOMMIT → PRECOMMIT_ACK → DOCOMMIT → ACK, each to or from the N−1 others:
/// 6(N−1) messages and three round trips, the client answered after the second (when DoCommit is
/// decided). A YES locks the key and is logged before it leaves, as in 2PC; so is a participant's
/// PreCommit. The coordinator aborts when a vote or a PreCommit acknowledgement is missing after
/// its timeout, or when a participant fails PreCommit; aborts are re-sent until acknowledged,
/// because a pre-committed participant that misses one commits when its timer runs out.
///
/// What this buys and costs: no participant blocks on a crashed coordinator (its timer decides),
/// and with one failure at a time on a reliable network the timers agree. Under a partition they do
/// not: the side that holds pre-committed participants commits while the other aborts (the seeds'
/// example, scenario `3pc-partition-precommit`). With `termination` the survivors elect a new
/// coordinator instead (Skeen's termination protocol), which also survives several crashes at once
/// — and also diverges under partitions.
///
/// Recovery: a restarted node asks every other node about each transaction its log leaves
/// undecided and adopts any decision it hears; otherwise its timer decides as above, except for a
/// restarted coordinator, which cannot tell how far its PreCommit got and only ever adopts.
public struct ThreePhaseCommit: ReplicationBackend {
    public static let protocolName = "3pc"
    public typealias Entry = TransactionRecord
    public typealias HardState = CommitHardState

    package internal(set) var core: CommitCore<ThreePhaseCommit>
    let options: Options
    /// Termination protocols in progress: the state reports gathered so far, by transaction.
    var terminations: [TransactionID: [NodeID: TransactionState]] = [:]

    public init(id: NodeID, cluster: [NodeID], options: Options, recovered: RecoveredState<TransactionRecord, CommitHardState>, seed: UInt64) {
        self.options = options
        core = CommitCore(id: id, cluster: cluster, timing: options.timing, sessions: options.sessions, abortsAcknowledged: true, recovered: recovered)
    }

    public var nextDeadline: Instant? { core.nextDeadline }

    public var leadership: Leadership? { nil }

    public mutating func step(_ input: Input<Message>, at now: Instant, into out: inout Effects<ThreePhaseCommit>) {
        switch input {
        case .client(let request):
            if let transaction = core.submit(request, at: now, into: &out), core.roundComplete(transaction) {
                preCommit(transaction, at: now, into: &out)
            }
        case .receive(let from, .common(let message)):
            receive(message, from: from, at: now, into: &out)
        case .receive(let from, .preCommit(let transaction)):
            acceptPreCommit(transaction, from: from, at: now, into: &out)
        case .receive(let from, .preCommitReply(let transaction, let ok)):
            switch core.recordAnswer(transaction, from: from, yes: ok, in: .preCommitted, into: &out) {
            case .complete: core.decide(transaction, commit: true, at: now, into: &out)
            case .refused: core.decide(transaction, commit: false, at: now, into: &out)
            case .waiting, .stale: break
            }
        case .tick:
            for transaction in core.expire(at: now, into: &out) { timedOut(transaction, at: now, into: &out) }
        }
    }

    private mutating func receive(_ message: CommitMessage, from node: NodeID, at now: Instant, into out: inout Effects<ThreePhaseCommit>) {
        switch message {
        case .voteRequest(let transaction, let request):
            core.vote(on: transaction, request, phase: Message.Kind.canCommit.rawValue, at: now, timer: now + options.preCommitTimeout, into: &out)
        case .vote(let transaction, let yes):
            switch core.recordAnswer(transaction, from: node, yes: yes, in: .voted, into: &out) {
            case .complete: preCommit(transaction, at: now, into: &out)
            case .refused: core.decide(transaction, commit: false, at: now, into: &out)
            case .waiting, .stale: break
            }
        case .decision(let transaction, let commit):
            learn(transaction, commit: commit, ackTo: node, into: &out)
        case .ack(let transaction):
            core.recordAck(transaction, from: node, into: &out)
        case .stateRequest(let transaction):
            core.report(transaction, to: node, into: &out)
        case .stateReport(let transaction, let state):
            if let commit = state.decision {
                learn(transaction, commit: commit, ackTo: nil, into: &out)
            } else if terminations[transaction] != nil {
                terminations[transaction]![node] = state
            }
        }
    }

    private mutating func learn(_ transaction: TransactionID, commit: Bool, ackTo: NodeID?, into out: inout Effects<ThreePhaseCommit>) {
        terminations[transaction] = nil
        core.learn(transaction, commit: commit, ackTo: ackTo, into: &out)
    }

    /// Every vote was YES: the coordinator moves to pre-committed (in memory only: after a restart
    /// it asks rather than trusts itself) and asks every participant to pre-commit.
    private mutating func preCommit(_ transaction: TransactionID, at now: Instant, into out: inout Effects<ThreePhaseCommit>) {
        if core.startRound(transaction, state: .preCommitted, message: .preCommit(transaction), expires: now + options.ackTimeout, at: now, into: &out) {
            core.decide(transaction, commit: true, at: now, into: &out)
        }
    }

    /// A participant asked to pre-commit logs it before acknowledging, and then waits
    /// `commitTimeout` for the decision. An injected rejection fails the phase: the participant
    /// rolls back, which it may, since it is not yet committable.
    private mutating func acceptPreCommit(_ transaction: TransactionID, from node: NodeID, at now: Instant, into out: inout Effects<ThreePhaseCommit>) {
        guard core.active[transaction]?.state == .voted else {
            // Repeated, late, or about a transaction decided here: answer with what this node knows.
            let ok = core.active[transaction]?.state == .preCommitted || core.decisions[transaction] == true
            out.send(.preCommitReply(transaction, ok: ok), to: node)
            return
        }
        if core.consumeRejection(Message.Kind.preCommit.rawValue, transaction, into: &out) {
            learn(transaction, commit: false, ackTo: nil, into: &out)
            out.send(.preCommitReply(transaction, ok: false), to: node)
            return
        }
        core.enterPreCommit(transaction, timer: now + options.commitTimeout, into: &out)
        out.send(.preCommitReply(transaction, ok: true), to: node)
    }

    /// An undecided transaction's timer fired.
    private mutating func timedOut(_ transaction: TransactionID, at now: Instant, into out: inout Effects<ThreePhaseCommit>) {
        guard let current = core.active[transaction], current.state.decision == nil else { return }
        if current.recovered {
            // Back from a crash: first ask what was decided meanwhile; the node's own timeout
            // counts from now.
            core.resume(transaction)
            core.ask(transaction, core.peers, into: &out)
            core.setTimer(transaction, at: now + options.timeout(in: current.state))
        } else if options.termination {
            terminate(transaction, current.state, at: now, into: &out)
        } else if transaction.coordinator == core.id {
            // A restarted coordinator cannot tell whether its PreCommit left: it never decides
            // alone, and keeps asking until a participant's timer has decided.
            core.ask(transaction, core.peers, into: &out)
            core.setTimer(transaction, at: now + options.preCommitTimeout)
        } else {
            let commit = current.state == .preCommitted
            out.emit(.note(kind: "timeout", detail: "\(transaction): no \(commit ? "decision" : "PreCommit") in time, \(commit ? "commit" : "abort")"))
            learn(transaction, commit: commit, ackTo: nil, into: &out)
        }
    }
}
