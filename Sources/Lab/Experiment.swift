import ConsensusCore
import Foundation

/// `conlab run`: a scenario file in, an experiment folder out.
public struct ExperimentRequest: Sendable {
    public var scenarioPath: String
    public var outputDirectory: String?
    public var backends: [String]?
    public var seeds: [UInt64]?
    public var jobs: Int
    public var progress: ProgressStyle
    /// Run only every `count`-th run, starting with run `index` (1-based): one machine's share.
    public var shard: Shard?
    /// Which runs keep their `history.jsonl`.
    public var histories = HistoryRetention.all
    /// Who carries the runs out: the simulator, or real processes (`conlab run --real`).
    public var driver: any RunDriver

    public init(scenarioPath: String, outputDirectory: String? = nil, backends: [String]? = nil, seeds: [UInt64]? = nil,
                jobs: Int = ProcessInfo.processInfo.activeProcessorCount, progress: ProgressStyle = .quiet, shard: Shard? = nil,
                driver: any RunDriver = SimulatorDriver()) {
        self.driver = driver
        self.scenarioPath = scenarioPath
        self.outputDirectory = outputDirectory
        self.backends = backends
        self.seeds = seeds
        self.jobs = jobs
        self.progress = progress
        self.shard = shard
    }
}

/// `--shard 2/8`: the runs whose position modulo 8 is 1 (0-based), for job arrays.
public struct Shard: Sendable, Hashable {
    public var index: Int
    public var count: Int

    public init?(parsing text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]), count >= 1, (1...count).contains(index) else { return nil }
        self.index = index
        self.count = count
    }

    package func includes(_ position: Int) -> Bool { position % count == index - 1 }
}

public enum ProgressStyle: Sendable {
    /// A redrawn bar on a terminal.
    case bar
    /// One line per finished run (logs, CI).
    case lines
    case quiet
}

public struct ExperimentResult: Sendable {
    public var name: String
    public var directory: String
    public var records: [RunRecord]
}

public enum Experiment {
    /// Loads, validates, runs and writes an experiment. Validation errors, and an output folder
    /// that cannot be written, surface before any run.
    public static func run(_ request: ExperimentRequest) throws -> ExperimentResult {
        let definition = try ExperimentDefinition.load(path: request.scenarioPath)
        let scenarios = definition.scenarios, name = definition.name
        if let wanted = request.backends {
            let known = Set(scenarios.flatMap { $0.backends.flatMap(\.selectors) })
            for backend in wanted where !known.contains(backend) {
                throw ScenarioError(file: request.scenarioPath, path: "backends",
                                    reason: "--backend \(backend) is not in this scenario; it has \(Set(scenarios.flatMap { $0.backends.map(\.label) }).sorted().joined(separator: ", "))")
            }
        }
        // Only the backends that will run are the driver's to refuse (`--backend` leaves the others out).
        for var scenario in scenarios {
            if let wanted = request.backends { scenario.backends.removeAll { Set(wanted).isDisjoint(with: $0.selectors) } }
            try request.driver.validate(scenario)
        }
        let plan = Runner.plan(experiment: name, scenarios: scenarios, backendFilter: request.backends, seeds: request.seeds)
        let positions = plan.indices.filter { request.shard?.includes($0) ?? true }
        let specs = positions.map { plan[$0] }
        let directory = request.outputDirectory ?? "Reports/\(name.fileSafe)"
        try OutputDirectory.prepare(directory)
        let reporter = ProgressReporter(style: request.progress, total: specs.count)
        let records = try Runner.record(specs, writingRunFilesTo: directory, driver: request.driver, histories: request.histories,
                                        jobs: request.jobs) { done, total in
            reporter.update(done: done, total: total)
        }
        reporter.finish()
        try ReportWriter.write(records, to: directory)
        try ExperimentFile(definition).write(to: directory)
        if let shard = request.shard {
            try ShardManifest(experiment: name, shard: shard.index, of: shard.count, total: plan.count,
                              runs: zip(positions, specs).map { ShardManifest.Run(position: $0, id: $1.id) }).write(to: directory)
        } else {
            // Built from the files just written, as `conlab report` would; a shard's share waits for `conlab merge`.
            try Report.build(directory: directory)
        }
        return ExperimentResult(name: name, directory: directory, records: records)
    }

    /// A short table of the runs for the terminal (`TerminalTable`), and how many runs the checker
    /// found something wrong with.
    public static func summaryText(_ result: ExperimentResult) -> String {
        let lines = result.records.map(\.line)
        var text = ["\(result.name): \(result.records.count) run\(result.records.count == 1 ? "" : "s") → \(result.directory)/"]
        text += TerminalTable.render(lines)
        let flagged = lines.count(where: \.hasAnomalies)
        text.append(flagged == 0 ? "no anomalies found"
                                 : "anomalies in \(flagged) of \(lines.count) runs: see summary.csv and runs/*/anomalies.jsonl")
        return text.joined(separator: "\n")
    }
}

/// Progress of a long experiment on standard error: runs done of total, elapsed, estimate left.
package final class ProgressReporter: @unchecked Sendable {
    let style: ProgressStyle
    let total: Int
    let start = Date()
    let lock = NSLock()

    package init(style: ProgressStyle, total: Int) {
        self.style = style
        self.total = total
    }

    package func update(done: Int, total: Int) {
        lock.lock()
        defer { lock.unlock() }
        let elapsed = Date().timeIntervalSince(start)
        let left = done == 0 ? 0 : elapsed / Double(done) * Double(total - done)
        switch style {
        case .bar:
            let width = 30, filled = width * done / max(total, 1)
            let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
            FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total) runs, \(clock(elapsed)) elapsed, ~\(clock(left)) left ".utf8))
        case .lines:
            FileHandle.standardError.write(Data("run \(done)/\(total) done (\(clock(elapsed)) elapsed, ~\(clock(left)) left)\n".utf8))
        case .quiet:
            break
        }
    }

    package func finish() {
        if case .bar = style { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return String(format: "%02d:%02d", s / 60, s % 60)
    }
}
