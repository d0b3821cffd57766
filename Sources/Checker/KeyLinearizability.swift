import ConsensusCore

/// The linearizability verdict of one key, with what it cost.
public struct KeyVerdict: Sendable, Equatable {
    public var key: String
    public var verdict: Verdict
    /// Operations on the key in the history (all outcomes).
    public var operations: Int
    /// Candidate operations the search tried: the deterministic measure of its effort.
    public var steps: Int
    /// Distinct (linearized set, state) configurations the search visited.
    public var configurations: Int
    /// Why the verdict is what it is when that is not obvious: the budget that ran out, or the
    /// direct check that proved a violation the search had no time to find.
    public var note: String?
}

/// Runs the search on one key and turns a dead end into an explanation.
enum KeyLinearizability {
    static func check(_ history: KeyHistory, budget: CheckBudget) -> (KeyVerdict, Anomaly?) {
        var search = LinearizabilitySearch(history)
        let deadline = budget.secondsPerKey.map { ContinuousClock.now + .microseconds(Int64($0 * 1_000_000)) }
        let result = search.run(maxSteps: budget.stepsPerKey, deadline: deadline)
        var verdict = KeyVerdict(key: history.key, verdict: .linearizable, operations: history.operations.count,
                                 steps: search.steps, configurations: search.configurations, note: nil)
        switch result {
        case .linearizable:
            return (verdict, nil)
        case .unknown(.steps(let limit)):
            verdict.verdict = .unknown
            verdict.note = "search budget of \(limit) steps exhausted"
            return (verdict, nil)
        case .unknown(.wallClock):
            verdict.verdict = .unknown
            verdict.note = "wall-clock budget of \(budget.secondsPerKey ?? 0)s exhausted"
            return (verdict, nil)
        case .notLinearizable(let deadEnd):
            verdict.verdict = .notLinearizable
            return (verdict, explain(deadEnd, search: search, history: history))
        }
    }

    /// The anomaly for a key no order explains: the operation that could not be linearized after
    /// the longest linearizable prefix the search found, what the register held then, and which
    /// operations were pending.
    static func explain(_ deadEnd: LinearizabilitySearch.DeadEnd, search: LinearizabilitySearch, history: KeyHistory) -> Anomaly {
        func source(_ u: Int32) -> HistoryOperation { history.operations[Int(search.operations[Int(u)].source)] }
        let blocking = search.operations[Int(deadEnd.blocking)]
        let blocked = history.operations[Int(blocking.source)]
        var involved = [blocked.id]
        var text = "no linearization of key \(quoted(history.key)) explains \(blocked.summary)"
        if blocking.forcedBy >= 0 {
            let observer = history.operations[Int(blocking.forcedBy)]
            involved.append(observer.id)
            text += ", an indeterminate write that must have taken effect before \(observer.summary) observed its value"
        } else if let observed = observedValue(blocked) {
            let writers = Array(writers(of: observed, in: history.operations).prefix(3))
            involved += writers.map(\.id)
            text += writers.isEmpty ? " (no operation wrote \(quoted(observed)))" : " (\(quoted(observed)) was written by \(listed(writers)))"
        }
        text += ". The longest linearizable prefix found has \(deadEnd.prefixLength) operation\(deadEnd.prefixLength == 1 ? "" : "s")"
        if !deadEnd.recentPrefix.isEmpty {
            let recent = deadEnd.recentPrefix.map { u -> String in
                let operation = source(u)
                involved.append(operation.id)
                return operation.summary + (Int(u) >= search.mandatoryCount ? " taking effect" : "")
            }
            text += ", ending with " + recent.joined(separator: ", ")
        }
        let state = search.space.describe(deadEnd.state)
        text += "; the value was then \(state)"
        let pending = deadEnd.pending.filter { $0 != deadEnd.blocking }.map(source)
        if !pending.isEmpty {
            involved += pending.map(\.id)
            text += "; also pending then: \(listed(pending))"
        }
        text += "."
        return Anomaly(
            kind: .nonLinearizable, key: history.key, operations: involved, explanation: text,
            details: [
                "blocking_op": .number(Double(blocked.id)),
                "prefix_length": .number(Double(deadEnd.prefixLength)),
                "prefix_tail": .array(deadEnd.recentPrefix.map { .number(Double(source($0).id)) }),
                "value_after_prefix": .string(state),
            ])
    }

    /// The value an operation claims to have seen: a get's result, an ok cas's expected value.
    static func observedValue(_ operation: HistoryOperation) -> String? {
        switch (operation.command, operation.outcome) {
        case (.get, .ok(.value(let value))): value
        case (.cas(_, let expected, _), .ok(.done)): expected
        default: nil
        }
    }

    /// Operations that may have produced `value`: puts and cas writing it, appends ending it.
    static func writers(of value: String, in operations: [HistoryOperation]) -> [HistoryOperation] {
        operations.filter { operation in
            guard StaleReads.tookEffectPossibly(operation) else { return false }
            switch operation.command {
            case .put(_, let written), .cas(_, _, let written): return written == value
            case .append(_, let fragment): return !fragment.isEmpty && value.hasSuffix(fragment)
            case .get, .delete: return false
            }
        }
    }
}
