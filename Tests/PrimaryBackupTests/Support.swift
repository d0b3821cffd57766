import ConsensusCore
import Foundation
import KVStore
import Lab
import PrimaryBackup
import Simulator

typealias Configuration = PrimaryBackup.Configuration

/// Safety properties the primary–backup design promises even though it loses writes, checked after
/// every step of a run:
/// - at most one node is ever primary in a configuration epoch (one vote per node and epoch);
/// - two nodes at the same offset of the same history hold the same state machine, client sessions
///   included (replication IDs name histories uniquely, so PSYNC never splices unrelated data);
/// - a primary's offset never goes back while it stays primary.
final class Invariants {
    private(set) var violations: [String] = []
    private var primaries: [UInt64: NodeID] = [:]
    private var primaryOffsets: [NodeID: (config: Configuration, offset: Int)] = [:]

    init(watching simulation: Simulation<PrimaryBackup>) {
        simulation.afterStep = { [unowned self] simulation, node in self.check(simulation, after: node) }
    }

    private func check(_ simulation: Simulation<PrimaryBackup>, after node: NodeID) {
        guard violations.count < 10, let backend = simulation.backend(node) else { return }
        let at = simulation.now
        if backend.role == .primary {
            let epoch = backend.hard.config.epoch
            if let other = primaries[epoch], other != node { violations.append("\(at): \(other) and \(node) both primary in epoch \(epoch)") }
            primaries[epoch] = node
            if let last = primaryOffsets[node], last.config == backend.hard.config, backend.offset < last.offset {
                violations.append("\(at): primary \(node) went back from offset \(last.offset) to \(backend.offset)")
            }
            primaryOffsets[node] = (backend.hard.config, backend.offset)
        }
        guard let history = backend.hard.replicationID else { return }
        for peer in simulation.cluster where peer != node {
            guard let other = simulation.backend(peer), other.hard.replicationID == history, other.offset == backend.offset else { continue }
            if other.store != backend.store {
                violations.append("\(at): \(node) and \(peer) are both at offset \(backend.offset) of history \(history) with different states")
            }
        }
    }
}

/// Acknowledged appends whose value is in no live replica's final state: the writes asynchronous
/// replication lost. (Appends carry unique values, so absence means loss, not overwrite.)
func lostAppends(_ result: SimulationResult) -> [HistoryOperation] {
    var present: [String: Set<Substring>] = [:]
    for state in result.finalStates.values {
        for (key, value) in state { present[key, default: []].formUnion(value.split(separator: ";")) }
    }
    return result.history.filter { operation in
        guard case .append(let key, let value) = operation.command, operation.outcome == .ok(.done) else { return false }
        return present[key]?.contains(value.dropLast()) != true
    }
}

/// Writes (put, append, cas, delete) acknowledged as done.
func acknowledgedWrites(_ result: SimulationResult) -> [HistoryOperation] {
    result.history.filter { !$0.command.isRead && $0.outcome == .ok(.done) }
}

func refusedWrites(_ result: SimulationResult) -> [HistoryOperation] {
    result.history.filter { !$0.command.isRead && $0.outcome == .fail(.refused) }
}

/// The scenario file as the lab loads it, by name under `Experiments/`.
func scenario(_ name: String) throws -> Scenario {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return try ScenarioFile.load(path: root.appendingPathComponent("Experiments/\(name).json").path)[0]
}

/// One run of a scenario file's backend entry (by label, as in the file), in process, with the
/// invariants watched: the same configuration and options `conlab run` uses for that seed.
struct ScenarioRun {
    var seed: UInt64
    var result: SimulationResult
    var violations: [String]
    var replay: String
}

func run(_ scenario: Scenario, label: String, seeds: [UInt64]) throws -> [ScenarioRun] {
    guard let spec = scenario.backends.first(where: { $0.label == label }) else {
        throw ScenarioError(file: scenario.file, path: "$.backends", reason: "does not list \(label)")
    }
    var options = PrimaryBackupOptions()
    for option in spec.options { try options.set(option.name, to: option.value) }
    return seeds.map { seed in
        let simulation = Simulation<PrimaryBackup>(config: scenario.simulationConfig(seed: seed), options: options)
        let invariants = Invariants(watching: simulation)
        let result = simulation.run()
        let file = scenario.file.range(of: "Experiments/").map { String(scenario.file[$0.lowerBound...]) } ?? scenario.file
        return ScenarioRun(seed: seed, result: result, violations: invariants.violations,
                           replay: "swift run conlab run \(file) --backend '\(label)' --seed \(seed)")
    }
}

/// Seeds for the scenario-file tests: a few by default, more with `CONLAB_FULL=1`.
func seeds(default count: UInt64, full: UInt64) -> [UInt64] {
    Array(1...(ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1" ? full : count))
}

/// A quiet cluster (no background clients) on a fixed 1 ms network, for transcript-style tests.
func quietCluster(nodes: Int, options: PrimaryBackupOptions = PrimaryBackupOptions(), seed: UInt64 = 1) -> (Simulation<PrimaryBackup>, Invariants) {
    var config = SimulationConfig(nodes: nodes, seed: seed, duration: .seconds(60), quiescence: .zero)
    config.workload.clientsPerNode = 0
    config.network = LinkProfile(latency: .fixed(.milliseconds(1)))
    let simulation = Simulation<PrimaryBackup>(config: config, options: options)
    return (simulation, Invariants(watching: simulation))
}

extension Simulation where Backend == PrimaryBackup {
    /// Submits a command and runs until it completes (or `limit` passes); returns its outcome.
    @discardableResult
    func perform(_ command: Command, via node: NodeID, limit: TimeSpan = .seconds(2)) -> Outcome {
        let index = submit(command, via: node)
        let deadline = now + limit
        while history[index].complete == nil, now < deadline { run(for: .milliseconds(1)) }
        return history[index].outcome
    }

    func primaries() -> [NodeID] { cluster.filter { backend($0)?.role == .primary } }
}
