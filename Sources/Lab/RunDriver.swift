import ConsensusCore
import Simulator

/// How the runs of an experiment are carried out: in the simulator (`SimulatorDriver`), or
/// against real processes (the `Jepsen` module's driver, `conlab run --real`). Both produce the
/// same `RunOutput` — a history, events, fault levels, final replica states — so one checker and
/// one report writer serve both.
public protocol RunDriver: Sendable {
    /// `sim` or `real`: the `driver` column of `summary.csv`.
    var name: String { get }
    /// Refuses, before anything runs, a scenario this driver cannot carry out faithfully: a
    /// fault it has no counterpart for is an error (exit status 2), never silently skipped.
    func validate(_ scenario: Scenario) throws(ScenarioError)
    /// One run. Throws when the run could not be carried out (exit status 1), not when the
    /// system under test misbehaved: that is the run's result.
    func execute(_ spec: RunSpec) throws -> RunOutput
}

/// The deterministic simulator: every scenario, every fault, every backend of ours. An external
/// system (`{"external": "etcd"}`) has no state machine here to simulate: a scenario that would
/// run one is refused (exit status 2), never run without it; `--backend` leaves it out.
public struct SimulatorDriver: RunDriver {
    public init() {}

    public var name: String { "sim" }

    public func validate(_ scenario: Scenario) throws(ScenarioError) {
        guard let index = scenario.backends.firstIndex(where: { $0.external != nil }) else { return }
        let name = scenario.backends[index].label
        throw ScenarioError(file: scenario.file, path: "backends", reason: "\(name) is an external system, which only the real driver runs: "
                            + "add --real, or choose the simulated backends with --backend")
    }

    public func execute(_ spec: RunSpec) -> RunOutput { Runner.execute(spec) }
}
