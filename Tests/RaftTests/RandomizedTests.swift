import ConsensusCore
import Lab
import Raft
import Simulator
import Testing

/// Random faults over many seeds — partitions (including one-way cuts), crashes of a minority and
/// of a majority (losing whatever was not synced), pauses, and bursts of loss, duplication and
/// reordering — with every safety invariant checked after every step, and at the end: every
/// acknowledged write present (or overwritten), replicas identical, and no certainly-stale read.
@Suite struct RandomizedTests {
    static let scenarioFile = "conformance/random-faults.json"

    /// The defaults, and the conformance files' snapshot variant: snapshots every 100–150 entries,
    /// sent in chunks of 64 bytes.
    @Test(arguments: ["raft", "raft[snapshotThreshold=100;snapshotChunk=64]"])
    func invariantsHoldUnderRandomFaults(backend: String) throws {
        let scenario = try ScenarioFile.load(path: Paths.experiment(Self.scenarioFile))[0]
        let spec = try #require(scenario.backends.first { $0.label == backend })
        var options = RaftOptions()
        for option in spec.options { try options.set(option.name, to: option.value) }
        let seeds = Scale.seed.map { [$0] } ?? (1...UInt64(Scale.count(10, full: 200))).map { $0 }
        var failed: [String] = []
        for seed in seeds {
            let problems = Self.run(scenario, seed: seed, options: options)
            if !problems.isEmpty {
                failed.append("seed \(seed): " + problems.prefix(5).joined(separator: "\n    ")
                              + "\n    replay: swift run conlab run Experiments/\(Self.scenarioFile) --backend '\(backend)' --seed \(seed)"
                              + "\n    or: CONLAB_SEED=\(seed) swift test --filter RaftTests.RandomizedTests")
            }
        }
        #expect(failed.isEmpty, "\(failed.count) of \(seeds.count) seeds failed:\n\(failed.joined(separator: "\n"))")
    }

    /// One seed: the problems found (empty when every check passes).
    static func run(_ scenario: Scenario, seed: UInt64, options: RaftOptions) -> [String] {
        let sim = Simulation<Raft>(config: scenario.simulationConfig(seed: seed), options: options)
        let invariants = RaftInvariants()
        sim.afterStep = { sim, node in invariants.check(sim, node) }
        let result = sim.run()
        var problems = invariants.violations
        let lost = invariants.acknowledgedButLost(result.history)
        if !lost.neverDecided.isEmpty { problems.append("acknowledged but never committed: ops \(lost.neverDecided.prefix(5).map(\.id))") }
        for (node, state) in result.finalStates.sorted(by: { $0.key < $1.key }) {
            let missing = AcknowledgedWrites.missing(in: state, history: result.history)
            if !missing.isEmpty { problems.append("\(node) lost \(missing.count) acknowledged writes: \(missing.prefix(3).joined(separator: "; "))") }
        }
        let states = Array(result.finalStates.values)
        if states.contains(where: { $0 != states[0] }) { problems.append("replicas differ after quiescence") }
        if result.finalStates.count != scenario.nodes { problems.append("only \(result.finalStates.count) replicas are up at the end") }
        let stale = StaleReads.find(in: result.history)
        if !stale.isEmpty { problems.append("\(stale.count) stale reads, e.g. op \(stale[0].id)") }
        let acknowledged = result.history.count { $0.outcome != .indeterminate }
        if acknowledged < result.history.count / 4 { problems.append("only \(acknowledged) of \(result.history.count) operations completed") }
        return problems
    }
}
