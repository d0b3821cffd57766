import Checker
import ConformanceSuite
import ConsensusCore
import Foundation
import Lab
import Raft
import Simulator

/// One run of a FAULTS.md scenario file (`Experiments/<row>.json`) for one Raft variant it lists,
/// with the safety invariants checked after every step, and the measures the rows talk about.
struct RowRun {
    let row: String
    let label: String
    let seed: UInt64
    let options: RaftOptions
    let result: SimulationResult
    let invariants: RaftInvariants

    struct NotListed: Error, CustomStringConvertible {
        let description: String
    }

    /// Extra operations on top of the scenario's clients, so that a short window (a lease's
    /// last milliseconds) is observed on every seed: every `every`, a `get` of key `probe`
    /// through the node that leads when the window opens (or through a node that does not), and
    /// a `put` of a fresh value through each other node in turn (those that can reach the
    /// leader commit it). No write starts in `quiet`: a write whose answer is cut off by a
    /// partition stays indeterminate, and a read of its value proves nothing.
    struct Probe {
        var window: Range<Instant>
        var every: TimeSpan
        var readViaLeader = true
        var quiet: Range<Instant>?
    }

    /// `configure` may change the scenario's configuration (e.g. the disk), for variants that are
    /// not backend options.
    init(_ row: String, _ label: String = "raft", seed: UInt64 = 1, probe: Probe? = nil,
         configure: (inout SimulationConfig) -> Void = { _ in }) throws {
        let scenario = try ScenarioFile.load(path: Paths.experiment("\(row).json"))[0]
        guard let spec = scenario.backends.first(where: { $0.label == label }) else {
            throw NotListed(description: "Experiments/\(row).json does not list \(label)")
        }
        var options = RaftOptions()
        for option in spec.options { try options.set(option.name, to: option.value) }
        var config = scenario.simulationConfig(seed: seed)
        let original = config
        configure(&config)
        modified = probe != nil || config.faults != original.faults || config.storage != original.storage
        let sim = Simulation<Raft>(config: config, options: options)
        let invariants = RaftInvariants()
        sim.afterStep = { sim, node in invariants.check(sim, node) }
        self.row = row
        self.label = label
        self.seed = seed
        self.options = options
        self.invariants = invariants
        if let probe { Self.run(probe, on: sim) }
        result = sim.run()
    }

    private static func run(_ probe: Probe, on sim: Simulation<Raft>) {
        sim.run(until: probe.window.lowerBound)
        let leader = sim.currentLeader
        guard let reader = probe.readViaLeader ? leader : sim.cluster.first(where: { $0 != leader && sim.isUp($0) }) else { return }
        let writers = sim.cluster.filter { $0 != reader }
        var count = 0
        while sim.now < probe.window.upperBound {
            sim.submit(.get(key: "probe"), via: reader)
            if !(probe.quiet?.contains(sim.now) ?? false) {
                sim.submit(.put(key: "probe", value: "p.\(count)"), via: writers[count % writers.count])
            }
            count += 1
            sim.run(for: probe.every)
        }
    }

    /// Whether the run added probes or changed the scenario (then `conlab run` shows the
    /// scenario's part only, and the test itself is the replay).
    private(set) var modified = false

    var replay: String {
        "replay: swift run conlab run Experiments/\(row).json --backend '\(label)' --seed \(seed)"
            + (modified ? " (the test adds probes or changes the scenario: swift test --filter RaftTests.FaultRowTests)" : "")
    }

    static func at(_ seconds: Double) -> Instant { Instant(microseconds: Int64(seconds * 1_000_000)) }

    /// Operations the system served (ok, or a compare-and-set that compared), completed in
    /// `window`, by clients pinned to `homes` (all when nil).
    func served(in window: Range<Instant>, homes: Set<NodeID>? = nil, reads: Bool? = nil) -> [HistoryOperation] {
        result.history.filter { operation in
            guard let complete = operation.complete, window.contains(complete) else { return false }
            if let homes, !homes.contains(operation.node) { return false }
            if let reads, operation.command.isRead != reads { return false }
            switch operation.outcome {
            case .ok, .fail(.casMismatch): return true
            default: return false
            }
        }
    }

    /// Longest stretch of `window` in which no operation was served.
    func longestGap(in window: Range<Instant>) -> TimeSpan {
        var previous = window.lowerBound, longest = TimeSpan.zero
        for time in served(in: window).compactMap(\.complete).sorted() + [window.upperBound] {
            longest = max(longest, time - previous)
            previous = max(previous, time)
        }
        return longest
    }

    /// The leader (highest term among live nodes that lead) at `time`.
    func leader(at time: Instant) -> NodeID? { result.leaders.last { $0.start <= time }?.leader }

    /// Times a new leader (or the same node in a new term) took over, within `window`.
    func leaderChanges(in window: Range<Instant>) -> Int {
        var previous: LeaderSpan?
        var changes = 0
        for span in result.leaders where span.leader != nil {
            if let previous, previous.leader != span.leader || previous.term != span.term, window.contains(span.start) { changes += 1 }
            previous = span
        }
        return changes
    }

    /// Acknowledged writes missing from some replica's final state.
    var lostWrites: [String] {
        result.finalStates.sorted { $0.key < $1.key }.flatMap { node, state in
            AcknowledgedWrites.missing(in: state, history: result.history).map { "\(node): \($0)" }
        }
    }

    /// The groups of the first partition fault (`n1,n5 | n2,n3,n4`).
    var partitionGroups: [Set<NodeID>] { result.events.partitionGroups }

    /// Who can send to whom under the first cut that does not form groups (a bridge, a ring).
    var reachability: Reachability? { result.events.firstCut { $0.groups == nil }?.reachability }

    /// Operations invoked in `window` by clients pinned to `homes`, and the share of them served.
    func availability(invokedIn window: Range<Instant>, homes: Set<NodeID>) -> (ops: Int, served: Double) {
        let ops = result.history.filter { window.contains($0.invoke) && homes.contains($0.node) }
        let served = ops.filter { operation in
            switch operation.outcome {
            case .ok, .fail(.casMismatch): true
            default: false
            }
        }
        return (ops.count, ops.isEmpty ? 0 : Double(served.count) / Double(ops.count))
    }

    var staleReads: [HistoryOperation] { StaleReads.find(in: result.history) }

    /// Stale reads as the lab's checker finds them (also after appends, which `staleReads` skips).
    var checkedStaleReads: [HistoryOperation] {
        guard let report = try? Checker.check(CheckInput(history: result.history), budget: CheckBudget(stepsPerKey: 1)) else { return [] }
        let ids = Set(report.anomalies.filter { $0.kind == .staleRead }.compactMap { anomaly -> Int? in
            if case .number(let id)? = anomaly.details["read_op"] { Int(id) } else { nil }
        })
        return result.history.filter { ids.contains($0.id) }
    }

    /// The lab's linearizability checker on the whole history, with the budget runs use (10⁶
    /// search steps per key): the judge of a row's "linearizable", where `staleReads` is only a
    /// sound heuristic. `unknown` is never a pass.
    var verdict: Verdict {
        guard let report = try? Checker.check(CheckInput(history: result.history), budget: CheckBudget(stepsPerKey: 1_000_000)) else {
            return .unknown
        }
        return report.linearizable
    }

    var replicasAgree: Bool {
        let states = Array(result.finalStates.values)
        return !states.isEmpty && states.allSatisfy { $0 == states[0] }
    }

    /// The safety checks every run of a safe configuration must pass.
    var safetyProblems: [String] {
        var problems = invariants.violations
        let lost = invariants.acknowledgedButLost(result.history)
        if !lost.neverDecided.isEmpty { problems.append("acknowledged but never committed: ops \(lost.neverDecided.prefix(5).map(\.id))") }
        if !lostWrites.isEmpty { problems.append("lost acknowledged writes: \(lostWrites.prefix(3))") }
        if !replicasAgree { problems.append("replicas differ at the end") }
        return problems
    }
}
