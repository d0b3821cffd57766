import Checker
import ConsensusCore
import Dispatch
import Foundation
import Simulator

/// One run of an experiment: a scenario point, a backend, a seed.
public struct RunSpec: Sendable {
    public var experiment: String
    public var scenario: Scenario
    public var backend: BackendSpec
    public var seed: UInt64
    /// Unique within the experiment; names the run's folder and the `run` column.
    public var id: String
}

/// What a run produced, ready to be written.
public struct RunOutput: Sendable {
    public var spec: RunSpec
    public var result: SimulationResult
    public var consistency: ConsistencySummary
    /// `history.jsonl`, rendered on the worker thread that ran the simulation.
    public var historyText: String
    /// Wall-clock seconds the run took (for progress estimates only; never written to reports).
    public var wallSeconds: Double
    /// The driver that carried the run out (`RunDriver.name`): the `driver` column.
    public var driver: String
    /// A sharded run's groups and bucket moves (`groups.csv`, `migrations.csv`); nil otherwise.
    public var sharded: ShardedOutcome?

    /// Checks `result` and renders its history: what every driver does with what it recorded.
    package init(spec: RunSpec, result: SimulationResult, driver: String, wallSeconds: Double, sharded: ShardedOutcome? = nil) {
        self.spec = spec
        self.result = result
        self.sharded = sharded
        self.driver = driver
        self.wallSeconds = wallSeconds
        consistency = ConsistencySummary.check(result)
        historyText = ReportWriter.historyText(result.history)
    }

    /// Whether the checker found anything wrong with the run, or a backend reported a safety
    /// violation.
    var hasAnomalies: Bool { !consistency.isClean || !result.violations.isEmpty }
}

/// Expands scenarios into runs and executes them, in parallel on all cores, with outputs in the
/// order a sequential run would give.
public enum Runner {
    /// Every (scenario point × backend × seed), in that nesting order.
    public static func plan(experiment: String, scenarios: [Scenario], backendFilter: [String]? = nil, seeds: [UInt64]? = nil) -> [RunSpec] {
        var runs: [RunSpec] = []
        var used: Set<String> = []
        // In a suite the scenario's name leads the run id, so runs of different rows stay apart.
        let namesScenario = Set(scenarios.map(\.name)).count > 1
        for scenario in scenarios {
            for backend in scenario.backends where backendFilter.map({ !Set($0).isDisjoint(with: backend.selectors) }) ?? true {
                for seed in seeds ?? scenario.seeds {
                    var parts = namesScenario ? [scenario.name, backend.kind.name] : [backend.kind.name]
                    if !backend.variant.isEmpty { parts.append(backend.variant) }
                    if !scenario.sweepLabel.isEmpty { parts.append(scenario.sweepLabel) }
                    parts.append("s\(seed)")
                    var id = parts.joined(separator: "_").fileSafe
                    var suffix = 2
                    while used.contains(id) { id = parts.joined(separator: "_").fileSafe + "_\(suffix)"; suffix += 1 }
                    used.insert(id)
                    runs.append(RunSpec(experiment: experiment, scenario: scenario, backend: backend, seed: seed, id: id))
                }
            }
        }
        return runs
    }

    public static func execute(_ spec: RunSpec) -> RunOutput {
        let start = DispatchTime.now()
        var sharded: ShardedOutcome?
        let result: SimulationResult
        if let layout = spec.scenario.sharded, let options = spec.backend.visit(RaftOptionsOf()) {
            (result, sharded) = ShardedRun.execute(spec.scenario, layout, options: options, seed: spec.seed)
        } else {
            result = spec.backend.simulate(spec.scenario.simulationConfig(seed: spec.seed))
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return RunOutput(spec: spec, result: result, driver: SimulatorDriver().name, wallSeconds: seconds, sharded: sharded)
    }

    /// Runs every spec on up to `jobs` threads; `progress` is called after each run (serialised).
    public static func run(_ specs: [RunSpec], jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
                           progress: (@Sendable (Int, Int) -> Void)? = nil) -> [RunOutput] {
        Parallel.map(specs, jobs: jobs, progress: progress, execute)
    }

    /// Runs every spec as `run` does, but writes each run's own files into `directory` as soon as
    /// it finishes and keeps only its record, so memory does not grow with whole histories.
    static func record(_ specs: [RunSpec], writingRunFilesTo directory: String, driver: any RunDriver = SimulatorDriver(),
                       histories: HistoryRetention = .all, jobs: Int = ProcessInfo.processInfo.activeProcessorCount,
                       progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> [RunRecord] {
        let results = Parallel.map(specs, jobs: jobs, progress: progress) { spec in
            Result { () throws -> RunRecord in
                let output = try driver.execute(spec)
                try ReportWriter.writeRunFiles(output, to: directory, history: histories.keeps(output))
                return RunRecord(output)
            }
        }
        return try results.map { try $0.get() }
    }
}
