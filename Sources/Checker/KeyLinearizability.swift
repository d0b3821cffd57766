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

/// Decides one key, cheapest method first, and turns a violation into an explanation.
///
/// 1. The search with a budget proportional to the key's size (`firstStageSteps`): with the zone
///    pruning (`LinearizabilitySearch`) a linearizable key with unique values usually needs a few
///    steps per operation, and whatever the search decides is exact.
/// 2. A linearization built from the key's epochs (`EpochWitness`), in O(n log n), mended by the
///    search on small windows where it fails (`WitnessRepair`), and replayed: it decides most
///    linearizable keys however many clients raced on them, which is where the search runs out.
///    Where it finds none it has proved nothing.
/// 3. Direct proofs of a violation (`ViolationProofs`, stale reads), polynomial, for the keys
///    where exhausting every order before a bad read is beyond any budget.
/// 4. The search again with the full budget, guided by the order the construction came closest
///    with, which alone can end `unknown`.
enum KeyLinearizability {
    /// The budget of a search that should not need backtracking beyond the zones: polynomial, and
    /// generous for such a key (the searches that explain or minimise a violation).
    static func fastSteps(_ history: KeyHistory) -> Int { 64 * history.operations.count + 10_000 }

    /// The search's budget in the first stage. A key of few concurrent clients needs a step or two
    /// per operation (the standard benchmark's keys one, 4,000 operations from 16 clients 14); where the search needs more, the epochs' order,
    /// mended where it fails (`WitnessRepair`), is far cheaper: on one key with 100,000 operations
    /// from 32 clients, `fastSteps` was 6.4 million steps, 6 s, and mending the order 0.2 s. What
    /// this budget spends in vain the full search in stage 4 spends again, so it is kept small.
    static func firstStageSteps(_ history: KeyHistory) -> Int { 16 * history.operations.count + 10_000 }

    static func check(_ history: KeyHistory, staleReads: [Anomaly] = [], budget: CheckBudget) -> (KeyVerdict, Anomaly?) {
        let clock = ContinuousClock()
        let deadline = budget.secondsPerKey.map { clock.now + .microseconds(Int64($0 * 1_000_000)) }
        let fast = min(budget.stepsPerKey, firstStageSteps(history))
        var (verdict, violation, exhaustion) = search(history, maxSteps: fast, deadline: deadline)
        guard let exhausted = exhaustion else { return (verdict, violation.map { minimised($0, history) }) }
        let witness = EpochWitness.attempt(history, deadline: deadline)
        if witness.linearization != nil {
            verdict.verdict = .linearizable
            let mended = witness.mendedWindows > 0 ? " (mended by the search in \(witness.mendedWindows) places)" : ""
            verdict.note = "a linearization built from its epochs\(mended) replays, after \(verdict.steps) search steps"
            return (verdict, nil)
        }
        if let proof = ViolationProofs.find(history) {
            verdict.verdict = .notLinearizable
            verdict.note = "proved directly after \(verdict.steps) search steps"
            return (verdict, minimised(proof, history))
        }
        if let stale = staleReads.first, let read = stale.details["read_op"] {
            verdict.verdict = .notLinearizable
            verdict.note = "proved by the stale read #\(read.serialized) after \(verdict.steps) search steps"
            return (verdict, nil)
        }
        guard fast < budget.stepsPerKey, exhausted != .wallClock else { return (unknown(verdict, exhausted, budget), nil) }
        let first = verdict
        (verdict, violation, exhaustion) = search(history, maxSteps: budget.stepsPerKey, deadline: deadline, guide: witness.guide)
        verdict.steps += first.steps
        verdict.configurations = max(verdict.configurations, first.configurations)
        return (exhaustion.map { unknown(verdict, $0, budget) } ?? verdict, violation.map { minimised($0, history) })
    }

    /// The violation with the smallest set of operations found that cannot be ordered
    /// (`MinimalViolation`) as its operations, named in the explanation and described for a
    /// drawing in `unorderable`. The search for it starts from the operations the explanation
    /// names, then from those invoked before the culprit completed.
    static func minimised(_ anomaly: Anomaly, _ history: KeyHistory) -> Anomaly {
        var index: [Int: Int] = [:]
        for (position, operation) in history.operations.enumerated() { index[operation.id] = position }
        var seeds = [anomaly.operations.compactMap { index[$0] }]
        let culprit = anomaly.details["blocking_op"].flatMap { value -> Int? in
            if case .number(let id) = value { index[Int(id)] } else { nil }
        }
        if let culprit, let end = history.operations[culprit].complete {
            seeds.append(history.operations.indices.filter { history.operations[$0].invoke <= end })
        }
        var minimisation = MinimalViolation(history)
        let found = minimisation.find(seeds: seeds)
        let members = found.members.map { history.operations[$0] }
        let highlighted = culprit.flatMap { found.members.contains($0) ? history.operations[$0].id : nil }
            ?? Self.culprit(of: members, key: history.key)
        var minimal = anomaly
        minimal.operations = members.map(\.id)
        let named = nearest(members, to: highlighted, count: namedOperations)
        minimal.explanation += " These \(members.count) operations alone cannot be ordered"
            + (found.isMinimal ? "" : " (a smaller such set may exist: the search for one ran out of budget)")
            + (named.count < members.count ? " (all in ops); the \(named.count) nearest the culprit: " : ": ") + "\(listed(named))."
        minimal.details["unorderable"] = .object([
            ("count", .number(Double(members.count))),
            ("culprit", highlighted.map { .number(Double($0)) } ?? .null),
            ("minimal", .bool(found.isMinimal)),
            ("operations", .array(nearest(members, to: highlighted, count: drawnOperations).map(\.drawingFacts))),
        ])
        return minimal
    }

    /// How many operations of a minimal set the explanation names and the drawing describes: a
    /// long appended value read back brings every append that spells it, hundreds of them, which
    /// would make `anomalies.jsonl` megabytes long; the operations nearest the culprit tell most.
    static let namedOperations = 12
    static let drawnOperations = 40

    /// The `count` operations invoked nearest the culprit's invocation (all if there are no more), in id order.
    static func nearest(_ operations: [HistoryOperation], to culprit: Int?, count: Int) -> [HistoryOperation] {
        guard operations.count > count else { return operations }
        let center = operations.first { $0.id == culprit }?.invoke.microseconds ?? operations.last!.invoke.microseconds
        return operations.sorted { (abs($0.invoke.microseconds - center), $0.id) < (abs($1.invoke.microseconds - center), $1.id) }
            .prefix(count).sorted { $0.id < $1.id }
    }

    /// The id of the operation the search without zones finds it cannot linearize in `operations`.
    static func culprit(of operations: [HistoryOperation], key: String) -> Int? {
        let history = KeyHistory(key: key, operations: operations)
        var plain = LinearizabilitySearch(history, zones: false)
        guard case .notLinearizable(let deadEnd) = plain.run(maxSteps: fastSteps(history), deadline: nil),
              deadEnd.blocking >= 0 else { return nil }
        return operations[Int(plain.operations[Int(deadEnd.blocking)].source)].id
    }

    /// One run of the search: its verdict, its explanation of a violation, or why it stopped.
    static func search(_ history: KeyHistory, maxSteps: Int, deadline: ContinuousClock.Instant?, guide: [Int32]? = nil)
        -> (KeyVerdict, Anomaly?, LinearizabilitySearch.Exhaustion?) {
        var search = LinearizabilitySearch(history, guide: guide)
        let result = search.run(maxSteps: maxSteps, deadline: deadline)
        var verdict = KeyVerdict(key: history.key, verdict: .linearizable, operations: history.operations.count,
                                 steps: search.steps, configurations: search.configurations, note: nil)
        switch result {
        case .linearizable:
            return (verdict, nil, nil)
        case .unknown(let exhaustion):
            verdict.verdict = .unknown
            return (verdict, nil, exhaustion)
        case .notLinearizable(let deadEnd):
            verdict.verdict = .notLinearizable
            return (verdict, explanation(history, deadEnd: deadEnd, search: search), nil)
        }
    }

    /// The zone pruning refutes a wrong order where it starts, so its dead ends say little (often
    /// just the first write of the key). The search without it goes on as far as the history
    /// allows: its dead end, if it finds one within the fast budget, explains the violation.
    static func explanation(_ history: KeyHistory, deadEnd: LinearizabilitySearch.DeadEnd, search: LinearizabilitySearch) -> Anomaly {
        var plain = LinearizabilitySearch(history, zones: false)
        if case .notLinearizable(let deeper) = plain.run(maxSteps: fastSteps(history), deadline: nil) {
            return explain(deeper, search: plain, history: history)
        }
        return explain(deadEnd, search: search, history: history)
    }

    static func unknown(_ verdict: KeyVerdict, _ exhaustion: LinearizabilitySearch.Exhaustion, _ budget: CheckBudget) -> KeyVerdict {
        var unknown = verdict
        unknown.verdict = .unknown
        switch exhaustion {
        case .steps(let limit): unknown.note = "search budget of \(limit) steps exhausted"
        case .wallClock: unknown.note = "wall-clock budget of \(budget.secondsPerKey ?? 0)s exhausted"
        }
        return unknown
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
