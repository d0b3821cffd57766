import ConsensusCore

/// The words `events.csv` shows for an event (its `kind` and `detail` columns), also used in test
/// messages. Nothing reads them back: code that needs a term, a node or a fault matches the case.
extension SimulationEvent {
    public var kind: String {
        switch self {
        case .role: "role"
        case .leader: "leader"
        case .fault, .healedForQuiescence: "fault"
        case .faultDeferred: "fault-deferred"
        case .triggerFired: "trigger"
        case .crash, .processKilled: "crash"
        case .start, .processStarted(_, restart: false): "start"
        case .restart, .processStarted(_, restart: true): "restart"
        case .restartFailed: "restart-failed"
        case .tornTailRepaired: "torn-tail"
        case .diskDamageUnnoticed: "disk-damage-unnoticed"
        case .firstCommit: "commit"
        case .inDoubt: "in-doubt"
        case .coordinatedInDoubt: "coordinator"
        case .note(let kind, _): kind
        case .violation: "violation"
        }
    }

    public var detail: String {
        switch self {
        case .role(_, let term, let name): "\(name) term=\(term)"
        case .leader(let leader, let term): leader.map { "\($0) term=\(term)" } ?? "none"
        case .fault(let action, let targets, let reachability): Self.describe(action, targets, reachability)
        case .healedForQuiescence: "heal all for quiescence"
        case .faultDeferred(let action): "\(action): no such node yet; retrying every 10ms"
        case .triggerFired(let step): "step \(step + 1) fired"
        case .crash(let lost): "lost \(lost) unsynced storage operations"
        case .start(let entries, let snapshot), .restart(let entries, let snapshot):
            "recovered \(entries) log entries" + (snapshot.map { ", snapshot at \($0)" } ?? "")
        case .processKilled(let pid): "SIGKILL to pid \(pid): what it had not synced is lost"
        case .processStarted(let pid, _): "pid \(pid) on its data directory"
        case .restartFailed(let reason): reason
        case .tornTailRepaired(let file, let bytes): "cut \(bytes) bytes of a write a crash interrupted from \(file)"
        case .diskDamageUnnoticed(let damage): "started although the disk damaged synced data (\(damage)); acknowledged records may be gone"
        case .firstCommit(let index, let term): "index=\(index) term=\(term): first commit as leader"
        case .inDoubt(let transaction, let key, let duration, let ending):
            "\(ObservableEvent.transactionName(transaction)) on key \(key): voted YES, then waited \(duration.microseconds / 1000) ms, "
                + "the key locked, \(ending.words)"
        case .coordinatedInDoubt(let transaction, let key, let duration, let resolved):
            "\(ObservableEvent.transactionName(transaction)) on key \(key): participants in doubt for \(duration.microseconds / 1000) ms"
                + (resolved ? "" : ", some still at the end of the run")
        case .note(_, let detail): detail
        case .violation(let violation): violation.description
        }
    }

    /// `crash leader → n2`, `partition halves (n1,n2 | n3,n4,n5)`: the action, the nodes it hit
    /// unless the action already names them, and the reachability after a cut.
    static func describe(_ action: FaultAction, _ targets: [NodeID], _ reachability: Reachability?) -> String {
        var detail = action.description
        let named = targets.map(\.description).joined(separator: ",")
        if !targets.isEmpty, !detail.hasSuffix(" " + named) { detail += " → " + named }
        if let reachability { detail += " (\(reachability))" }
        return detail
    }
}

extension InDoubtSpan.Ending {
    /// How an `in-doubt` line's detail ends.
    var words: String {
        switch self {
        case .decided: "until it learned the decision"
        case .crashed: "until it crashed (from its restart it waits again)"
        case .runEnded: "and had no decision when the run ended"
        }
    }
}
