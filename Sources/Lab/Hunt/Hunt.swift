import Checker
import ConsensusCore
import Dispatch
import Foundation

/// `conlab hunt`: draws a scenario from each seed, runs it, judges it, and writes every violation
/// it stops at as a scenario file, shrunk beside it.
public struct HuntRequest: Sendable {
    /// How long a hunt goes on: a number of seeds, or until a wall-clock time is up.
    public enum Budget: Sendable, Hashable {
        case runs(Int)
        case seconds(Double)
    }

    public var target: HuntTarget
    public var budget: Budget
    public var from: UInt64 = 1
    public var directory: String
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    /// Go on after a violation (and shrink each); otherwise stop at the first.
    public var keepGoing = false
    /// Only seed positions I, I+N, … (1-based) of the seed range.
    public var shard: Shard?
    /// Judge these promises instead of the variant's own (`--promise`): how a hunt is shown to
    /// find what a backend does not promise.
    public var judging: Promises?
    /// Most candidate runs each shrink may spend; 0 leaves violations unshrunk.
    public var shrinkBudget = 300
    /// Called after every batch of runs (from the calling thread).
    public var progress: (@Sendable (HuntProgress) -> Void)?

    /// The highest `from`: seeds are written into scenario files as JSON numbers, exact below 2^53,
    /// and this leaves 2^52 seeds above it.
    public static let highestFirstSeed: UInt64 = 1 << 52

    public init(target: HuntTarget, budget: Budget, directory: String) {
        self.target = target
        self.budget = budget
        self.directory = directory
    }
}

/// Where a hunt is, for the progress line.
public struct HuntProgress: Sendable {
    public var runs: Int
    public var seconds: Double
    public var violations: Int
    /// Runs whose history the checker could not decide.
    public var undecided: Int

    public var line: String {
        "hunt: \(runs) runs, \(String(format: "%.1f", Double(runs) / max(seconds, 0.001))) runs/s, \(violations) violation\(violations == 1 ? "" : "s")"
            + (undecided > 0 ? ", \(undecided) undecided" : "")
    }
}

/// A violation a hunt found, as `hunt.json` lists it.
public struct HuntViolation: Sendable, Hashable {
    public var seed: UInt64
    /// The promises it broke (`Promises.named`), in judging order.
    public var kinds: [String]
    /// What the checker or the backend saw, for each.
    public var message: String
    /// The scenario file, relative to the hunt's folder.
    public var file: String
    /// The shrunk scenario file, nil when not shrunk.
    public var shrunk: String?

    /// The file names of seed `seed`'s violation: its scenario, the shrunk one, the shrink's log.
    static func names(_ seed: UInt64) -> (scenario: String, shrunk: String, log: String) {
        ("s\(seed).json", "s\(seed).shrunk.json", "s\(seed).shrink.log")
    }

    /// The files this violation has in its hunt's folder.
    var files: [String] { [file] + (shrunk.map { [$0, Self.names(seed).log] } ?? []) }
}

public enum Hunt {
    /// Runs the hunt and writes its folder: `hunt.json`, and for each violation `s<seed>.json`,
    /// `s<seed>.shrunk.json` and `s<seed>.shrink.log`.
    public static func run(_ request: HuntRequest) throws -> HuntLog {
        try OutputDirectory.prepare(request.directory)
        let start = DispatchTime.now()
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }
        var log = HuntLog(request)
        var found: [HuntTrial] = []
        var position = 0
        // Batches of several runs per thread, so that one slow run (a history the checker
        // struggles with) leaves a thread idle only at the batch's end; the lowest failing seed
        // of the first batch with a failure is the one a hunt stops at, for any `jobs`.
        let batch = max(request.jobs, 1) * 4
        while found.isEmpty || request.keepGoing {
            var seeds: [UInt64] = []
            while seeds.count < batch {
                if case .runs(let runs) = request.budget, position >= runs { break }
                if request.shard?.includes(position) ?? true { seeds.append(request.from + UInt64(position)) }
                position += 1
            }
            if seeds.isEmpty { break }
            let target = request.target, judging = request.judging
            let trials = try Parallel.map(seeds, jobs: request.jobs) { seed in
                Result { () throws(ScenarioError) in try HuntTrial.run(HuntDraw.draw(target, seed: seed), judging: judging) }
            }.map { try $0.get() }
            log.runs += trials.count
            log.undecided += trials.filter(\.undecided).map(\.hunt.seed)
            for trial in trials where !trial.broken.isEmpty && (found.isEmpty || request.keepGoing) {
                try writeFound(trial, request.directory)
                found.append(trial)
            }
            request.progress?(HuntProgress(runs: log.runs, seconds: elapsed(), violations: found.count, undecided: log.undecided.count))
            if case .seconds(let limit) = request.budget, elapsed() >= limit { break }
        }
        for trial in found { log.violations.append(try shrink(trial, request)) }
        try log.write(to: request.directory)
        return log
    }

    /// Writes a violation's scenario as soon as it is found (a hunt stopped later keeps it).
    static func writeFound(_ trial: HuntTrial, _ directory: String) throws {
        let file = HuntViolation.names(trial.hunt.seed).scenario
        var hunt = trial.hunt
        hunt.note += " Broke: \(trial.broken.map(\.kind).joined(separator: ", ")). Replay from the hunt's folder: conlab run \(file)"
        try Data(hunt.text.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(file))
    }

    /// Shrinks a violation and writes the result and the shrink's log beside its scenario.
    static func shrink(_ trial: HuntTrial, _ request: HuntRequest) throws -> HuntViolation {
        let names = HuntViolation.names(trial.hunt.seed)
        var violation = HuntViolation(seed: trial.hunt.seed, kinds: trial.broken.map(\.kind), message: trial.broken.map(\.message).joined(separator: "; "),
                                      file: names.scenario, shrunk: nil)
        guard request.shrinkBudget > 0, let first = trial.broken.first else { return violation }
        let shrinker = Shrinker(promise: first.promise, judging: request.judging, budget: request.shrinkBudget, jobs: request.jobs)
        let result = shrinker.shrink(trial.hunt)
        var shrunk = result.hunt
        shrunk.name += "-shrunk"
        shrunk.note = "Shrunk by conlab hunt from \(names.scenario); still breaks \(first.kind) (the steps: \(names.log)). "
            + "Replay from the hunt's folder: conlab run \(names.shrunk)"
        let directory = URL(fileURLWithPath: request.directory)
        try Data(shrunk.text.utf8).write(to: directory.appendingPathComponent(names.shrunk))
        let lines = ["shrinking \(names.scenario) while it breaks \(first.kind) (\(first.message))"] + result.log
        try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: directory.appendingPathComponent(names.log))
        violation.shrunk = names.shrunk
        return violation
    }
}
