import AtomicCommit
import ConsensusCore

/// Skeen's termination protocol (central-site, as Bernstein, Hadzilacos & Goodman 1987 §7.4 give
/// it), in place of the timeout rules when `termination` is on.
///
/// A participant whose timer runs out asks every node for its state and collects answers for one
/// `voteTimeout`. A decision in any answer is adopted at once (a committed node means commit, an
/// aborted one — or one that had not voted, which aborts when asked — means abort). Otherwise the
/// lowest-numbered node among those that answered, itself included, is the new coordinator: if it
/// is this node, it commits when any of them is pre-committed (then every participant voted YES and
/// the old coordinator may have committed) and aborts otherwise (then nobody can have committed),
/// and sends the decision to every node until each acknowledges. Any other node waits for that
/// decision and starts over if it does not come.
///
/// With crashes only and a reliable network everyone that answers sees the same states and the
/// protocol never blocks. Under a partition each side elects its own coordinator and may decide
/// differently: 3PC cannot be non-blocking and partition-tolerant at once.
extension ThreePhaseCommit {
    mutating func terminate(_ transaction: TransactionID, _ state: TransactionState, at now: Instant, into out: inout Effects<ThreePhaseCommit>) {
        guard let reports = terminations.removeValue(forKey: transaction) else {
            terminations[transaction] = [:]
            core.ask(transaction, core.peers, into: &out)
            core.setTimer(transaction, at: now + options.timing.voteTimeout)
            return
        }
        let responders = reports.keys.sorted()
        guard responders.first.map({ core.id < $0 }) ?? true else {
            core.setTimer(transaction, at: now + options.commitTimeout)
            return
        }
        let commit = state == .preCommitted || reports.values.contains(.preCommitted)
        out.emit(.note(kind: "termination", detail: "\(transaction): new coordinator with \(responders.map(\.description).joined(separator: ",")) answering; \(commit ? "commit" : "abort")"))
        core.decide(transaction, commit: commit, at: now, into: &out)
    }
}
