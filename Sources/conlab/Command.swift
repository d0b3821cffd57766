import ConsensusCore
import Foundation
import Checker
import Jepsen
import Lab

enum Command {
    static let usage = """
    conlab — compare replication protocols under identical faults

    USAGE
      conlab run SCENARIO.json [options]   run a scenario (or a suite of scenarios) on every backend it lists
      conlab check HISTORY.jsonl [options] check a history: linearizability and direct anomaly checks
      conlab hunt --backend NAME [options] swarm search: a scenario drawn per seed, judged against the backend's promises
      conlab merge DIR... --out DIR        join the outputs of `run --shard` (or `hunt --shard`) into one folder
      conlab report DIR                    rebuild the charts and index.html of an experiment folder
      conlab compare SIM_DIR REAL_DIR      does a real run (`run --real`) agree with the simulator?
      conlab replay RUN_DIR [options]      one simulated run again as a page: its messages, operations, roles, anomalies
      conlab list [DIR | FILE]             list scenarios (default Experiments/, or one file) and backends
      conlab bench [sim | raft [N…] [--writes] [--runs R] | checker [hot | write DIR]]  simulator, Raft or checker benchmark (release build)
      conlab serve --cluster FILE --node ID  run one node of a real cluster (Redis protocol for clients)
      conlab cluster up | status | down    start, inspect or stop a local cluster of `serve` processes
      conlab load --target resp://…|etcd://…  closed-loop load on our nodes or etcd: throughput, latency, CSV
      conlab shard --meta F --group F... CMD  join, leave, move on a sharded store of `serve` clusters, and move the buckets
      conlab --help | conlab COMMAND --help

    Exit status: 0 success, 1 failure, 2 bad input (the message names file, field and reason).
    """

    static let runUsage = """
    conlab run SCENARIO.json [--backend NAME]... [--seed N | --seeds LIST] [--out DIR] [--jobs N] [--shard I/N]
               [--histories all|failing|none] [--quiet] [--real [--keep-clusters] [--network loopback|netns]]

    Runs the scenario on each backend and seed it lists (a suite file: every scenario it names) and
    writes, into Reports/<scenario or suite name>/ or DIR:
      summary.csv      one row per run (availability, latency, messages, consistency verdicts)
      timeseries.csv   per-second availability, latency, leader and active faults
      events.csv       faults, crashes, restarts, role and leader changes
      faults.csv       one row per fault window, availability on each side of a partition
      latency.csv      per run, the latency of served operations at fixed quantiles
      experiment.json  the experiment and its scenarios in words
      index.html, charts/*.svg   the report: charts (also as SVG files) and tables
      runs/<run>/history.jsonl   every client operation (the input of `conlab check`)

    OPTIONS
      --backend NAME   run only this backend (repeatable): a protocol runs every variant of it (raft);
                       one variant as the scenario lists it (raft[read=lease]) or as run ids spell it (raft_read_lease)
      --seed N         run only seed N (replays a failing seed)
      --seeds LIST     seeds to run instead of the scenario's: 1,2,3 or 1-10 (at most 10000)
      --out DIR        output folder (default Reports/<scenario name>), created and test-written before any run
      --jobs N         parallel runs (default: all cores); output is identical for any N
      --shard I/N      run only runs I, I+N, I+2N, … (1-based) and write shard.json, for job arrays;
                       `conlab merge` joins the shards into exactly the files one machine writes
      --histories W    which runs keep runs/<run>/history.jsonl: all (default), failing (runs with anomalies
                       or safety violations) or none; everything else is written for every run
      --quiet          print nothing but errors
      --real           run each (backend, seed) against a local cluster of real `conlab serve` processes on
                       127.0.0.1 instead of the simulator (Jepsen mode): real clients, the fault timeline in
                       wall-clock time, the same checker and files (`driver` column: real). A run takes the
                       scenario's duration + timeout + quiescence, plus a second or so to start and stop.
                       --jobs defaults to 1. A scenario with a fault the real driver lacks is refused.
                       External systems a scenario lists ({"external": "etcd"}, {"external": "redis-sentinel"})
                       run only with --real: the lab starts them from their Debian packages (README)
      --keep-clusters  with --real: keep each run's cluster folder (logs, data) in the temporary folder
      --network W      with --real: where the nodes live. loopback (default): every node on 127.0.0.1, links cut
                       in our nodes' transport or, for external systems, a proxy. netns (root, Linux, packages
                       iproute2 and iptables): each node in a network namespace of its own on a bridge, partitions
                       and one-way cuts made by iptables in the kernel, as Jepsen does (README § Jepsen mode)
    """

    static func main(_ arguments: [String]) -> Int32 {
        guard let command = arguments.first else { print(usage); return 2 }
        let rest = Array(arguments.dropFirst())
        switch command {
        case "-h", "--help", "help": print(usage); return 0
        case "run": return run(rest)
        case "list": return list(rest)
        case "hunt": return hunt(rest)
        case "merge": return merge(rest)
        case "compare": return compare(rest)
        case "replay": return replay(rest)
        case "check": return check(rest)
        case "report": return report(rest)
        case "bench": return bench(rest)
        case "serve": return serve(rest)
        case "cluster": return cluster(rest)
        case "load": return load(rest)
        case "shard": return shard(rest)
        default:
            fail("unknown command '\(command)'\n\n\(usage)")
            return 2
        }
    }

    static func fail(_ message: String) {
        FileHandle.standardError.write(Data("conlab: \(message)\n".utf8))
    }

    static func run(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") { print(runUsage); return 0 }
        var parser = ArgumentParser(arguments)
        var out: String?
        do {
            let backends = try parser.values("--backend")
            let seed = try parser.value("--seed")
            let seedList = try parser.value("--seeds")
            out = try parser.value("--out")
            let jobs = try parser.value("--jobs")
            let shard = try parser.value("--shard")
            let quiet = parser.flag("--quiet")
            let histories = try parser.value("--histories")
            let real = parser.flag("--real")
            let keepClusters = parser.flag("--keep-clusters")
            let networkOption = try parser.value("--network")
            guard let path = try parser.positional() else { throw UsageError("missing scenario file\n\n\(runUsage)") }
            try parser.finish()
            var request = ExperimentRequest(scenarioPath: path, outputDirectory: out, backends: backends.isEmpty ? nil : backends)
            if let seed { request.seeds = [try parseSeed(seed)] }
            if let seedList { request.seeds = try parseSeeds(seedList) }
            if seed != nil && seedList != nil { throw UsageError("give --seed or --seeds, not both") }
            if let histories {
                guard let retention = HistoryRetention(rawValue: histories) else { throw UsageError("--histories takes all, failing or none") }
                request.histories = retention
            }
            if keepClusters && !real { throw UsageError("--keep-clusters goes with --real") }
            if networkOption != nil && !real { throw UsageError("--network goes with --real") }
            let network = try networkOption.map { option throws(UsageError) in
                guard let network = RealNetwork(option: option) else { throw UsageError("--network takes loopback or netns, found '\(option)'") }
                if let why = network.unavailable { throw UsageError(why) }
                return network
            } ?? .loopback
            if real {
                Interruption.stopEverythingOnSignals()
                request.driver = RealDriver(keepClusters: keepClusters, network: network)
                request.jobs = 1
            }
            if let jobs { guard let n = Int(jobs), n > 0 else { throw UsageError("--jobs takes a positive integer") }; request.jobs = n }
            if let shard {
                guard let parsed = Shard(parsing: shard) else { throw UsageError("--shard takes I/N with 1 ≤ I ≤ N, e.g. 3/8") }
                request.shard = parsed
            }
            request.progress = quiet ? .quiet : (isatty(STDERR_FILENO) == 1 ? .bar : .lines)
            if var study = try ElectionTimeoutStudy.load(path: path) {
                guard request.backends == nil, request.shard == nil, seedList == nil, !real else {
                    throw UsageError("an election-timeout study takes --seed, --out, --jobs and --quiet only")
                }
                if let seed = request.seeds?.first { study.seed = seed }
                let directory = out ?? "Reports/\(study.name)"
                try OutputDirectory.prepare(directory)
                let reporter = ProgressReporter(style: request.progress, total: study.ranges.count)
                let results = study.run(jobs: request.jobs) { done, total in reporter.update(done: done, total: total) }
                reporter.finish()
                let summary = try study.write(results, to: directory)
                if !quiet { print("\(study.name): \(study.ranges.count) timeout ranges × \(study.trials) trials → \(directory)/\n\(summary)") }
                return 0
            }
            let result = try Experiment.run(request)
            if !quiet { print(Experiment.summaryText(result)) }
            if real {
                // A real run cannot be replayed byte for byte, but the same run can be tried again.
                for record in result.records where record.isAnomalous {
                    fail("\(record.spec.id): the checker found anomalies; replay: conlab run \(path) --real --backend '\(record.spec.backend.label)' --seed \(record.spec.seed)")
                }
            }
            return 0
        } catch {
            return failure(error, out: out)
        }
    }

    /// Prints what went wrong and returns the exit status: 2 for bad input (a usage error, a
    /// scenario file's, an unusable output folder), 1 for anything else.
    static func failure(_ error: any Error, out: String?) -> Int32 {
        switch error {
        case let error as UsageError: fail(error.message); return 2
        case let error as ScenarioError: fail(error.description); return 2
        case let error as OutputDirectoryError: fail(outputProblem(error, given: out)); return 2
        default: fail("\(error)"); return 1
        }
    }

    /// An unusable output folder, named as the user gave it: `--out X`, or the default folder.
    static func outputProblem(_ error: OutputDirectoryError, given out: String?) -> String {
        out == nil ? error.description : "--out '\(error.path)': \(error.reason)"
    }

    static let checkUsage = """
    conlab check HISTORY.jsonl [--anomalies] [--steps N] [--seconds S] [--show N]

    Checks a history in the history.jsonl format (README § Outputs): linearizability per key
    (Wing–Gong search with Lowe's memoisation; indeterminate operations may or may not have taken
    effect), and stale reads. Prints the verdict and the anomalies with the operations involved.

    OPTIONS
      --anomalies   also write anomalies.jsonl next to the history
      --steps N     search steps per key before the verdict for that key is "unknown" (default 10000000)
      --seconds S   wall-clock limit per key (default none); may only turn a verdict into "unknown"
      --show N      anomalies to print (default 20)

    Exit status: 0 linearizable, 1 not (or any anomaly), 3 unknown, 2 bad input (a malformed line is
    named by its line number and reason).
    """

    static func check(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") { print(checkUsage); return 0 }
        var parser = ArgumentParser(arguments)
        do {
            var options = CheckCommand.Options()
            options.writeAnomalies = parser.flag("--anomalies")
            if let steps = try parser.value("--steps") {
                guard let n = Int(steps), n > 0 else { throw UsageError("--steps takes a positive integer") }
                options.budget.stepsPerKey = n
            }
            if let seconds = try parser.value("--seconds") {
                guard let s = Double(seconds), s > 0 else { throw UsageError("--seconds takes a positive number") }
                options.budget.secondsPerKey = s
            }
            if let show = try parser.value("--show") {
                guard let n = Int(show), n >= 0 else { throw UsageError("--show takes a non-negative integer") }
                options.anomaliesShown = n
            }
            guard let path = try parser.positional() else { throw UsageError("missing history file\n\n\(checkUsage)") }
            try parser.finish()
            let result = CheckCommand.run(path: path, options: options)
            if result.exitStatus == CheckCommand.badInputStatus {
                FileHandle.standardError.write(Data(result.text.utf8))
            } else {
                print(result.text, terminator: "")
            }
            return result.exitStatus
        } catch let error as UsageError {
            fail(error.message)
            return 2
        } catch {
            fail("\(error)")
            return 2
        }
    }

    static func merge(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") {
            print("conlab merge DIR... --out DIR: joins the folders written by `conlab run --shard I/N` or `conlab hunt --shard I/N` (every shard) into the folder one machine would have written")
            return 0
        }
        var parser = ArgumentParser(arguments)
        var given: String?
        do {
            given = try parser.value("--out")
            guard let out = given else { throw UsageError("merge needs --out DIR") }
            var directories: [String] = []
            while let directory = try parser.positional() { directories.append(directory) }
            try parser.finish()
            guard !directories.isEmpty else { throw UsageError("merge needs the shard folders") }
            try Merge.merge(directories, into: out)
            print("merged \(directories.count) shards → \(out)/")
            return 0
        } catch let error as UsageError {
            fail(error.message)
            return 2
        } catch let error as MergeError {
            fail(error.description)
            return 2
        } catch let error as OutputDirectoryError {
            fail(outputProblem(error, given: given))
            return 2
        } catch {
            fail("\(error)")
            return 1
        }
    }

    static func report(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print("""
            conlab report DIR [--png]: rebuilds DIR/index.html and DIR/charts/*.svg from the files in DIR (summary.csv,
            timeseries.csv, events.csv, faults.csv, latency.csv, experiment.json, runs/*/anomalies.jsonl), e.g. after
            `conlab merge`. `conlab run` writes the same report at its end.
              --png   also every chart as charts/<name>.png (twice the SVG's size, white background), for slides;
                      needs rsvg-convert (apt-get install -y librsvg2-bin)
            """)
            return 0
        }
        var parser = ArgumentParser(arguments)
        return exitStatus {
            let png = parser.flag("--png")
            guard let directory = try parser.positional() else { throw UsageError("report needs the experiment folder: conlab report DIR") }
            try parser.finish()
            let written = try Report.build(directory: directory)
            print("report: \(written.count - 1) charts → \((directory as NSString).appendingPathComponent("index.html"))")
            guard png else { return 0 }
            do {
                let images = try PNGExport.export(directory: directory, charts: written)
                print("png: \(images.count) charts → \((directory as NSString).appendingPathComponent("charts"))/*.png")
                return 0
            } catch let error as PNGExport.Unavailable {
                fail(error.description)
                return 1
            }
        }
    }

    /// Runs a subcommand's body: bad input — a usage mistake, a scenario, cluster or report file
    /// that is wrong — exits 2 with its message, any other failure 1 (README: exit status).
    static func exitStatus(_ body: () throws -> Int32) -> Int32 {
        do {
            return try body()
        } catch let error as UsageError {
            fail(error.message)
            return 2
        } catch let error as ScenarioError {
            fail(error.description)
            return 2
        } catch let error as ReportError {
            fail(error.description)
            return 2
        } catch {
            fail("\(error)")
            return 1
        }
    }

    static func parseSeed(_ text: String, option: String = "--seed") throws -> UInt64 {
        guard let seed = UInt64(text) else { throw UsageError("\(option): '\(text)' is not a seed (a non-negative integer)") }
        return seed
    }

    /// `1,2,3` or `1-10`: at least one seed and at most as many as a scenario may list.
    static func parseSeeds(_ text: String) throws -> [UInt64] {
        let limit = ScenarioLimits.seeds
        if let dash = text.firstIndex(of: "-"), !text.contains(",") {
            let low = try parseSeed(String(text[..<dash]), option: "--seeds"), high = try parseSeed(String(text[text.index(after: dash)...]), option: "--seeds")
            guard low <= high, high - low < limit else { throw UsageError("--seeds: bad range '\(text)'; write LOW-HIGH with at most \(limit) seeds") }
            return Array(low...high)
        }
        guard !text.isEmpty else { throw UsageError("--seeds needs at least one seed: 1,2,3 or 1-10") }
        let seeds = try text.split(separator: ",", omittingEmptySubsequences: false).map { try parseSeed(String($0), option: "--seeds") }
        guard seeds.count <= limit else { throw UsageError("--seeds lists \(seeds.count) seeds; at most \(limit)") }
        return seeds
    }

    static func list(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") {
            print("conlab list [DIR | FILE]: the scenarios in DIR (default Experiments/), or the one scenario FILE, and the backends with their options")
            return 0
        }
        var parser = ArgumentParser(arguments)
        let target: String, files: [String]
        do {
            target = try parser.positional() ?? "Experiments"
            try parser.finish()
            files = try scenarioFiles(at: target)
        } catch let error as UsageError {
            fail(error.message)
            return 2
        } catch {
            fail("\(error)")
            return 2
        }
        print("Scenarios in \(target)\(files == [target] ? "" : "/"):")
        var status: Int32 = 0
        let names = files.map { files == [target] ? target : ($0 as NSString).lastPathComponent }
        let width = names.map(\.count).max() ?? 0
        for (path, file) in zip(files, names) {
            let name = file.padding(toLength: width, withPad: " ", startingAt: 0)
            do {
                if let study = try ElectionTimeoutStudy.load(path: path) {
                    print("  \(name) \(study.description) [raft, \(study.ranges.count) timeout ranges]")
                    continue
                }
                let experiment = try ExperimentDefinition.load(path: path)
                let description = experiment.description.isEmpty ? "(no description)" : experiment.description
                let contents = experiment.isSuite ? "\(Set(experiment.scenarios.map(\.name)).count) scenarios"
                                                  : experiment.scenarios[0].backends.map(\.label).joined(separator: ", ")
                print("  \(name) \(description) [\(contents)]")
            } catch {
                print("  \(file): INVALID: \(error)")
                status = 2
            }
        }
        print("\nBackends:")
        for backend in Backends.all {
            print("  \(backend.name): \(backend.summary)")
            print("      messages: \(backend.messageKinds.joined(separator: ", "))")
            for option in backend.options {
                print("      \(option.name) = \(option.defaultValue)  (\(option.values)): \(option.summary)")
            }
        }
        print("\nExternal systems ({\"external\": NAME} in a scenario's backends; conlab run --real only):")
        for backend in Backends.external {
            print("  \(backend.name): \(backend.summary)")
            for option in backend.options {
                print("      \(option.name) = \(option.defaultValue)  (\(option.values)): \(option.summary)")
            }
        }
        return status
    }

    /// The `.json` files of a folder, or a file by itself: a user who names one scenario wants
    /// that one described (and validated). Anything else is bad input, not an empty list.
    static func scenarioFiles(at target: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard !target.isEmpty, FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) else {
            throw UsageError("list: \(target.isEmpty ? "an empty path" : target): no such file or folder")
        }
        guard isDirectory.boolValue else { return [target] }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: target) else { throw UsageError("list: \(target): cannot read the folder") }
        return names.filter { $0.hasSuffix(".json") }.sorted().map { (target as NSString).appendingPathComponent($0) }
    }

    static let benchUsage = """
    conlab bench [sim | raft [N…] [--writes] [--runs R] | checker]   (build with -c release first)

      sim       the simulator's own speed: unreplicated, 5 nodes, 50 clients, 60 s virtual, median of 5 runs
      raft      committed client operations per second of Raft at 3, 5, 7 and 9 nodes (or the sizes N given),
                half readIndex reads and writes only; --writes: the writes-only table alone;
                --runs R: median of R runs per figure (default 3; 1 under a profiler)
      checker   the linearizability checker on generated histories
    Figures, machines and how to compare them: BENCHMARKS.md.
    """

    static func bench(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") { print(benchUsage); return 0 }
        let which = arguments.first ?? "sim"
        switch which {
        case "sim":
            let figures = Benchmarks.simulator()
            print(figures)
            return 0
        case "raft":
            // `bench raft [N…] [--writes] [--runs R]`: only these cluster sizes, only the writes-only
            // table, R runs per figure (default 3; 1 for a profiler).
            var rest = Array(arguments.dropFirst())
            var runs = 3
            if let flag = rest.firstIndex(of: "--runs"), flag + 1 < rest.count, let count = Int(rest[flag + 1]), count > 0 {
                runs = count
                rest.removeSubrange(flag...flag + 1)
            }
            let writesOnly = rest.contains("--writes")
            rest.removeAll { $0 == "--writes" }
            let sizes = rest.compactMap { Int($0) }.filter { (1...99).contains($0) }
            guard sizes.count == rest.count else {
                fail("bench raft: expected cluster sizes (1-99), --writes and --runs R; got \(rest.joined(separator: " "))\n\n\(benchUsage)")
                return 2
            }
            print(Benchmarks.raft(nodes: sizes.isEmpty ? [3, 5, 7, 9] : sizes, runs: runs, writesOnly: writesOnly))
            return 0
        case "checker":
            // `bench checker [hot | write DIR]`: the standard cases, one hot key's, or their histories as files.
            if arguments.dropFirst().first == "write" {
                guard let directory = arguments.dropFirst(2).first else { fail("bench checker write: give a folder"); return 2 }
                for path in CheckerBenchmark.writeHistories(to: directory) { print(path) }
                return 0
            }
            let cases = arguments.dropFirst().first == "hot" ? CheckerBenchmark.hotKey() : CheckerBenchmark.standard()
            for measurement in cases { print("checker: " + measurement.line) }
            return 0
        default:
            fail("unknown benchmark '\(which)'\n\n\(benchUsage)")
            return 2
        }
    }
}

struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// A minimal parser: `--name value`, repeated options, flags, and positionals; unknown options are errors.
struct ArgumentParser {
    private var arguments: [String]

    init(_ arguments: [String]) { self.arguments = arguments }

    mutating func value(_ name: String) throws -> String? {
        let values = try self.values(name)
        guard values.count <= 1 else { throw UsageError("\(name) given more than once") }
        return values.first
    }

    mutating func values(_ name: String) throws -> [String] {
        var found: [String] = []
        while let index = arguments.firstIndex(of: name) {
            guard index + 1 < arguments.count else { throw UsageError("\(name) needs a value") }
            // `--out --quiet` forgot the value; taking the next option as it would make a folder "--quiet".
            let value = arguments[index + 1]
            guard !value.hasPrefix("--") else { throw UsageError("\(name) needs a value, found the option '\(value)'") }
            found.append(value)
            arguments.removeSubrange(index...(index + 1))
        }
        return found
    }

    mutating func flag(_ name: String) -> Bool {
        guard let index = arguments.firstIndex(of: name) else { return false }
        arguments.remove(at: index)
        return true
    }

    mutating func positional() throws -> String? {
        guard let index = arguments.firstIndex(where: { !$0.hasPrefix("--") }) else { return nil }
        return arguments.remove(at: index)
    }

    func finish() throws {
        if let extra = arguments.first { throw UsageError("unexpected argument '\(extra)'") }
    }
}
