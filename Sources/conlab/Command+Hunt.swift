import ConsensusCore
import Foundation
import Lab

extension Command {
    static let huntUsage = """
    conlab hunt --backend NAME [--runs N | --time 10m] [--jobs N] [--from SEED] [--out DIR] [--keep-going]
                [--shard I/N] [--promise NAME]... [--shrink-runs N] [--quiet]

    Swarm search: each seed draws a whole scenario (3–9 nodes, which nemesis faults are on and how
    often, drops by message type, faults at protocol moments (a crash 50 µs after a COMMIT is sent),
    network latency and loss, memory or file storage with disk faults, the workload, the backend's
    options), runs it in the simulator and judges it against the promises that backend variant
    makes. At the first violation (every one with --keep-going) it writes DIR/s<seed>.json, a
    scenario file `conlab run` replays, shrinks it while the same promise stays broken
    (DIR/s<seed>.shrunk.json, steps in DIR/s<seed>.shrink.log), and lists everything in
    DIR/hunt.json.

    OPTIONS
      --backend NAME   raft, zab, 2pc, 3pc, primary-backup, unreplicated; NAME[option=value;…] fixes options
                       (zab[read=sync]), every other option is drawn
      --runs N         seeds FROM … FROM+N−1 (default 1000)
      --time T         go on until T of wall-clock time has passed (10m, 90s), instead of --runs
      --from SEED      the first seed (default 1)
      --jobs N         parallel runs (default: all cores); which violation is found first never depends on it
      --out DIR        output folder (default Reports/hunt-NAME)
      --keep-going     do not stop at the first violation
      --shard I/N      only seed positions I, I+N, I+2N, … (1-based), for job arrays; `conlab merge` joins them
      --promise NAME   judge this promise instead of the variant's own (repeatable): linearizable, durable,
                       convergent, atomic, liveAfterHeal, invariantsHold. Shows that the hunt finds what a
                       backend does not promise (primary-backup is not durable)
      --shrink-runs N  most runs each shrink may take (default 300; 0: do not shrink)
      --quiet          no progress line

    Exit status: 0 no violation, 1 a violation was found, 2 bad input.
    """

    static func hunt(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") { print(huntUsage); return 0 }
        var parser = ArgumentParser(arguments)
        var out: String?
        do {
            guard let backend = try parser.value("--backend") else { throw UsageError("hunt needs --backend NAME\n\n\(huntUsage)") }
            let runs = try parser.value("--runs"), time = try parser.value("--time")
            let from = try parser.value("--from"), jobs = try parser.value("--jobs"), shard = try parser.value("--shard")
            let promises = try parser.values("--promise"), shrinkRuns = try parser.value("--shrink-runs")
            out = try parser.value("--out")
            let keepGoing = parser.flag("--keep-going"), quiet = parser.flag("--quiet")
            try parser.finish()
            let target: HuntTarget
            do { target = try HuntTarget(parsing: backend) } catch { throw UsageError(error.description) }
            var request = HuntRequest(target: target, budget: .runs(1000), directory: out ?? "Reports/hunt-\(target.label.fileSafe)")
            if runs != nil && time != nil { throw UsageError("give --runs or --time, not both") }
            if let runs { request.budget = .runs(try positive(runs, "--runs")) }
            if let time {
                guard let span = TimeSpan(parsing: time), span > .zero else { throw UsageError("--time: '\(time)' is not a duration such as 90s or 10m") }
                request.budget = .seconds(span.seconds)
            }
            if let from {
                request.from = try parseSeed(from, option: "--from")
                // A scenario file holds its seed as a JSON number: exact up to 2^53.
                guard request.from <= HuntRequest.highestFirstSeed else { throw UsageError("--from: at most \(HuntRequest.highestFirstSeed), found \(from)") }
            }
            if let jobs { request.jobs = try positive(jobs, "--jobs") }
            if let shard {
                guard let parsed = Shard(parsing: shard) else { throw UsageError("--shard takes I/N with 1 ≤ I ≤ N, e.g. 3/8") }
                request.shard = parsed
            }
            if !promises.isEmpty {
                request.judging = try promises.reduce(into: Promises()) { set, name in
                    guard let promise = Promises(name: name) else {
                        throw UsageError("--promise: unknown promise '\(name)'; promises: \(Promises.named.map(\.name).joined(separator: ", "))")
                    }
                    set.formUnion(promise)
                }
            }
            if let shrinkRuns {
                guard let n = Int(shrinkRuns), n >= 0 else { throw UsageError("--shrink-runs takes a non-negative integer") }
                request.shrinkBudget = n
            }
            request.keepGoing = keepGoing
            if !quiet { request.progress = progressLine() }
            let log = try Hunt.run(request)
            if !quiet, isatty(STDERR_FILENO) == 1 { FileHandle.standardError.write(Data("\n".utf8)) }
            print("hunt \(target.label): \(log.runs) runs, \(log.violations.count) violation\(log.violations.count == 1 ? "" : "s")"
                  + (log.undecided.isEmpty ? "" : ", \(log.undecided.count) undecided (the checker's budget ran out; seeds in hunt.json)") + " → \(request.directory)/")
            for violation in log.violations {
                print("  seed \(violation.seed): \(violation.kinds.joined(separator: ", ")): \(violation.message)")
                print("    scenario: \(request.directory)/\(violation.file)" + (violation.shrunk.map { ", shrunk: \(request.directory)/\($0)" } ?? ""))
                print("    replay:   conlab run \(request.directory)/\(violation.shrunk ?? violation.file)")
            }
            return log.violations.isEmpty ? 0 : 1
        } catch {
            return failure(error, out: out)
        }
    }

    static func positive(_ text: String, _ option: String) throws -> Int {
        guard let n = Int(text), n > 0 else { throw UsageError("\(option) takes a positive integer, found '\(text)'") }
        return n
    }

    /// The progress line, redrawn in place on a terminal and at most once a second.
    static func progressLine() -> @Sendable (HuntProgress) -> Void {
        let terminal = isatty(STDERR_FILENO) == 1
        let last = LastPrint()
        return { progress in
            guard last.due(progress.seconds) else { return }
            FileHandle.standardError.write(Data((terminal ? "\r" + progress.line + " " : progress.line + "\n").utf8))
        }
    }
}

/// When the progress line was last printed.
private final class LastPrint: @unchecked Sendable {
    private var seconds = -1.0
    private let lock = NSLock()

    func due(_ now: Double) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard now - seconds >= 1 else { return false }
        seconds = now
        return true
    }
}
