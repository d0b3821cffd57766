import ConsensusCore
import Simulator

/// How long the participants of an atomic-commit run waited in doubt: the `in_doubt_*` columns,
/// which show 2PC blocking where the availability columns only show operations failing.
struct InDoubtMetrics {
    /// Transactions some participant was in doubt about for `InDoubtSpan.blocking` or longer
    /// (the round trip every write waits does not count), or still at the end of the run.
    var blocked = 0
    /// The longest wait of any participant (a crash ends one, the restart begins another); one
    /// still waiting counts until the end of the run.
    var longest = TimeSpan.zero
    /// Transactions some participant was still in doubt about when the run ended (a node down at
    /// the end waits for nothing).
    var unresolved = 0

    init(_ result: SimulationResult) {
        var blocked: Set<UInt64> = [], unresolved: Set<UInt64> = []
        for span in result.inDoubt {
            let duration = span.duration(until: result.end)
            longest = max(longest, duration)
            if duration >= InDoubtSpan.blocking || span.ending == .runEnded { blocked.insert(span.transaction) }
            if span.ending == .runEnded { unresolved.insert(span.transaction) }
        }
        self.blocked = blocked.count
        self.unresolved = unresolved.count
    }
}
