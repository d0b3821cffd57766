import Checker
import ConsensusCore

/// Shrinks a violating scenario while the same kind of violation (the first promise it broke)
/// still occurs: delta debugging over the fault steps (Zeller & Hildebrandt, "Simplifying and
/// Isolating Failure-Inducing Input", TSE 2002), then shorter faults, fewer nodes, clients, keys
/// and operations, and a shorter run, repeated until nothing more can go or the run budget is
/// spent. Deterministic: candidates are tried in a fixed order, `jobs` at a time, and the first
/// in that order that still fails is kept, so the result never depends on the number of threads.
public struct Shrinker: Sendable {
    public struct Result: Sendable {
        public var hunt: HuntCase
        /// One line per kept change (and the budget's end, if it came), for the shrink's log.
        public var log: [String]
        public var runs: Int
    }

    /// The kind of violation that must persist.
    public var promise: Promises
    /// Promises to judge instead of the backend's own (`--promise`), as the hunt did.
    public var judging: Promises?
    /// Most candidate runs.
    public var budget: Int
    public var jobs: Int

    public init(promise: Promises, judging: Promises?, budget: Int = 300, jobs: Int) {
        self.promise = promise
        self.judging = judging
        self.budget = budget
        self.jobs = jobs
    }

    /// `violation` must break `promise`; its nemesis is first written out as explicit steps.
    public func shrink(_ violation: HuntCase) -> Result {
        var state = Result(hunt: violation, log: [], runs: 0)
        if violation.nemesis != nil, let explicit = try? violation.explicit() {
            if let kept = first([explicit], &state) {
                state.hunt = kept
                state.log.append("nemesis written out as \(kept.faults.count) fault steps")
            } else {
                state.log.append("the nemesis written out as fault steps did not fail alike; shrinking with the nemesis")
            }
        }
        var progress = true
        while progress, state.runs < budget {
            progress = false
            for pass in [removeSteps, shortenFaults, fewerNodes, fewerClients, fewerKeys, fewerOperations, shorterRun] where state.runs < budget {
                if pass(&state) { progress = true }
            }
        }
        if state.runs >= budget { state.log.append("run budget of \(budget) spent; the result may shrink further") }
        state.log.append("result: \(state.hunt.nodes) nodes, \(state.hunt.clientsPerNode) clients per node, \(state.hunt.keys) keys, "
                         + "\(state.hunt.duration) run, \(state.hunt.faults.count) fault steps\(state.hunt.nemesis == nil ? "" : " and the nemesis") (\(state.runs) runs)")
        return state
    }

    /// The first candidate, in order, that still breaks `promise`, trying `jobs` at a time.
    func first(_ candidates: [HuntCase], _ state: inout Result) -> HuntCase? {
        var index = 0
        while index < candidates.count, state.runs < budget {
            let batch = Array(candidates[index..<min(index + max(jobs, 1), candidates.count, index + budget - state.runs)])
            let judging = self.judging, promise = self.promise
            let fails = Parallel.map(batch, jobs: jobs) { hunt in (try? HuntTrial.run(hunt, judging: judging))?.breaks(promise) ?? false }
            // Counted as if tried one by one, so that the budget ends at the same candidate for any `jobs`.
            if let hit = fails.firstIndex(of: true) {
                state.runs += hit + 1
                return batch[hit]
            }
            state.runs += batch.count
            index += batch.count
        }
        return nil
    }

    /// Keeps `candidate(s)` if one still fails, logging `what` it changed.
    func keep(_ candidates: [HuntCase], _ state: inout Result, _ what: (HuntCase) -> String) -> Bool {
        guard let kept = first(candidates.filter { $0 != state.hunt }, &state) else { return false }
        state.log.append(what(kept))
        state.hunt = kept
        return true
    }

    // MARK: Passes

    /// ddmin over the fault steps: drop a chunk, and halve the chunks while none can go.
    func removeSteps(_ state: inout Result) -> Bool {
        var changed = false
        var chunks = 2
        while state.hunt.faults.count >= 1, state.runs < budget {
            let steps = state.hunt.faults
            let size = (steps.count + chunks - 1) / chunks
            let ranges = stride(from: 0, to: steps.count, by: max(size, 1)).map { $0..<min($0 + size, steps.count) }
            let candidates = ranges.map { range in
                var hunt = state.hunt
                hunt.faults.removeSubrange(range)
                return hunt
            }
            let before = steps.count
            if keep(candidates, &state, { "removed \(before - $0.faults.count) of \(before) fault steps: \($0.faults.count) left" }) {
                changed = true
                chunks = max(chunks - 1, 2)
            } else if size > 1 {
                chunks = min(chunks * 2, steps.count)
            } else {
                break
            }
        }
        return changed
    }

    /// Each repair comes halfway sooner: a shorter partition, crash, pause or burst.
    func shortenFaults(_ state: inout Result) -> Bool {
        var changed = false
        for index in state.hunt.faults.indices.dropFirst() where Self.isRepair(state.hunt.faults[index]) && state.runs < budget {
            // A triggered step's `at` is when it starts counting events, not when it acts.
            guard state.hunt.faults[index - 1].when == nil, state.hunt.faults[index].when == nil else { continue }
            var hunt = state.hunt
            let previous = hunt.faults[index - 1].at, at = hunt.faults[index].at
            let sooner = previous + .milliseconds((at - previous).microseconds / 2_000)
            guard sooner > previous, sooner < at else { continue }
            hunt.faults[index].at = sooner
            if keep([hunt], &state, { "step \(index + 1) (\($0.faults[index].action)) at \(sooner) instead of \(at)" }) { changed = true }
        }
        return changed
    }

    /// Steps that undo an earlier fault.
    static func isRepair(_ step: HuntCase.Step) -> Bool {
        switch (step.action, step.value) {
        case ("heal", _), ("restart", _), ("resume", _), ("network", .string("restore")): true
        case ("slow", let value): value["factor"] == .number(1)
        case ("clock", let value): value["rate"] == .number(1)
        default: false
        }
    }

    /// A smaller cluster: the removed nodes leave every group and list they were in; a step that
    /// named one of them alone, or waits for an event at one of them, goes.
    func fewerNodes(_ state: inout Result) -> Bool {
        let lowest = 3
        guard state.hunt.nodes > lowest else { return false }
        let candidates = (lowest..<state.hunt.nodes).map { nodes in
            var hunt = state.hunt
            hunt.nodes = nodes
            hunt.faults = hunt.faults.compactMap { Self.pruned($0, nodes: nodes) }
            return hunt
        }
        let before = state.hunt.nodes
        return keep(candidates, &state) { "\($0.nodes) nodes instead of \(before)" }
    }

    /// `step` in a cluster of `nodes`, or nil when it names a removed node alone or waits for an
    /// event at one.
    static func pruned(_ step: HuntCase.Step, nodes: Int) -> HuntCase.Step? {
        guard pruned(.string(step.when?.node ?? ""), nodes: nodes) != nil, let value = pruned(step.value, nodes: nodes) else { return nil }
        var kept = step
        kept.value = value
        return kept
    }

    /// `value` without the nodes beyond the first `nodes` (`"n7"` with 5 nodes), or nil when that
    /// leaves a node reference or a list of nodes empty.
    static func pruned(_ value: JSONValue, nodes: Int) -> JSONValue? {
        switch value {
        case .string(let text):
            return text.hasPrefix("n") && (Int(text.dropFirst()).map { $0 > nodes } ?? false) ? nil : value
        case .array(let items):
            let kept = items.compactMap { pruned($0, nodes: nodes) }
            return kept.isEmpty && !items.isEmpty ? nil : .array(kept)
        case .object(let members):
            var kept: [(key: String, value: JSONValue)] = []
            for member in members {
                guard let value = pruned(member.value, nodes: nodes) else { return nil }
                kept.append((member.key, value))
            }
            return .object(kept)
        default:
            return value
        }
    }

    func fewerClients(_ state: inout Result) -> Bool {
        fewer(\.clientsPerNode, trying: Array(1..<state.hunt.clientsPerNode), "clients per node", &state)
    }

    func fewerKeys(_ state: inout Result) -> Bool {
        fewer(\.keys, trying: [1, state.hunt.keys / 2].filter { $0 >= 1 && $0 < state.hunt.keys }, "keys", &state)
    }

    /// Tries the scenario with each of `values` in place of the count at `count`, in order.
    func fewer(_ count: WritableKeyPath<HuntCase, Int>, trying values: [Int], _ noun: String, _ state: inout Result) -> Bool {
        let candidates = values.map { value in
            var hunt = state.hunt
            hunt[keyPath: count] = value
            return hunt
        }
        let before = state.hunt[keyPath: count]
        return keep(candidates, &state) { "\($0[keyPath: count]) \(noun) instead of \(before)" }
    }

    /// Half the load: an open loop at half the rate, a closed loop thinking twice as long.
    func fewerOperations(_ state: inout Result) -> Bool {
        var hunt = state.hunt
        let what: String
        switch hunt.load {
        case .open(let rate, let outstanding):
            guard rate >= 2 else { return false }
            hunt.load = .open(rate: (rate / 2).rounded(.down), outstanding: outstanding)
            what = "fewer operations: \(JSONValue.format((rate / 2).rounded(.down))) instead of \(JSONValue.format(rate)) requests per second per node"
        case .closed(let think):
            guard think.upperBound < .seconds(1) else { return false }
            hunt.load = .closed(think: (think.lowerBound * 2)...(think.upperBound * 2))
            what = "fewer operations: clients think \(think.lowerBound * 2)–\(think.upperBound * 2) instead of \(think.lowerBound)–\(think.upperBound)"
        }
        return keep([hunt], &state) { _ in what }
    }

    /// The run ends soon after its last fault step, or at half its length (steps after it dropped).
    func shorterRun(_ state: inout Result) -> Bool {
        let hunt = state.hunt
        let afterLast = (hunt.faults.map(\.at).max() ?? .zero) + .milliseconds(500)
        let lengths = [afterLast, TimeSpan.milliseconds(hunt.duration.microseconds / 2_000)].filter { $0 >= .seconds(1) && $0 < hunt.duration }
        let candidates = lengths.map { duration in
            var shorter = hunt
            shorter.duration = TimeSpan.milliseconds((duration.microseconds + 999) / 1_000)
            shorter.faults.removeAll { $0.at >= shorter.duration }
            return shorter
        }
        return keep(candidates, &state) { "a \($0.duration) run instead of \(hunt.duration)" }
    }
}
