import ConsensusCore
import Foundation
import Lab
import Simulator
import Zab

/// A simulation of ZAB with the safety checks installed.
func checkedSimulation(_ config: SimulationConfig, _ options: ZabOptions = ZabOptions()) -> (Simulation<Zab>, ZabChecker) {
    let simulation = Simulation<Zab>(config: config, options: options)
    let checker = ZabChecker()
    checker.attach(to: simulation)
    return (simulation, checker)
}

/// A quiet cluster (no background clients) on a fast, reliable network.
func quietConfig(nodes: Int = 5, seed: UInt64 = 1, duration: TimeSpan = .seconds(5)) -> SimulationConfig {
    var config = SimulationConfig(nodes: nodes, seed: seed, duration: duration, quiescence: .seconds(1))
    config.workload.clientsPerNode = 0
    return config
}

extension Simulation where Backend == Zab {
    /// The established leader, if exactly one live node is one in the highest epoch.
    var establishedLeader: NodeID? {
        cluster.filter { backend($0)?.isEstablishedLeader == true }.max { backend($0)!.currentEpoch < backend($1)!.currentEpoch }
    }

    /// Runs until some node is an established leader (or the limit passes).
    @discardableResult
    func runUntilLeader(within limit: TimeSpan = .seconds(5)) -> NodeID? {
        let end = now + limit
        while now < end {
            if let leader = establishedLeader, cluster.allSatisfy({ !isUp($0) || backend($0)!.state != .looking }) { return leader }
            run(for: .milliseconds(5))
        }
        return establishedLeader
    }

    /// Runs until the operation at `index` of the history completes (or the limit passes).
    func runUntilComplete(_ index: Int, within limit: TimeSpan = .seconds(2)) {
        let end = now + limit
        while now < end, history[index].complete == nil { run(for: .milliseconds(1)) }
    }

    /// The backend's notes of `kind` whose detail contains `text`.
    func notes(_ kind: String, containing text: String = "") -> [EventRecord] {
        events.filter { record in
            guard case .note(kind, let detail) = record.event else { return false }
            return text.isEmpty || detail.contains(text)
        }
    }
}

/// The repository's `Experiments/` folder.
func experimentPath(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Experiments/\(name)").path
}

/// The simulation config and options a scenario file gives a ZAB variant (`"zab"`, `"zab[read=sync]"`).
func scenarioRun(_ file: String, backend label: String, seed: UInt64) throws -> (SimulationConfig, ZabOptions) {
    let scenarios = try ScenarioFile.load(path: experimentPath(file))
    guard let spec = scenarios[0].backends.first(where: { $0.label == label }) else { throw MissingBackend(file: file, label: label) }
    var options = ZabOptions()
    for option in spec.options { try options.set(option.name, to: option.value) }
    return (scenarios[0].simulationConfig(seed: seed), options)
}

struct MissingBackend: Error, CustomStringConvertible {
    var file: String
    var label: String
    var description: String { "Experiments/\(file) does not list backend \(label)" }
}

/// Whether the environment asks for the full randomized sweeps.
var fullRun: Bool { ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1" }

/// What a failing seed prints: how to replay it.
func replay(_ test: String, seed: UInt64) -> String {
    "replay: CONLAB_SEED=\(seed) swift test --filter \(test)"
}
