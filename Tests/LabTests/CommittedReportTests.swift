import Checker
import ConsensusCore
import Foundation
@testable import Lab
import Testing

/// The committed reference reports (`Reports/`) must be what the code produces: a slice of each
/// experiment is re-run and compared, row by row, with the committed files. With `CONLAB_FULL=1`
/// every run of every committed report is re-run and each data file compared byte for byte.
@Suite struct CommittedReportTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var full: Bool { ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1" }

    func path(_ relative: String) -> String { Self.root.appendingPathComponent(relative).path }

    /// The records of a committed CSV (or JSONL) file that belong to `runs`, in file order.
    func committedRecords(_ file: String, run column: String, keeping runs: Set<String>) throws -> [String] {
        let text = try String(contentsOfFile: path(file), encoding: .utf8)
        if file.hasSuffix(".jsonl") {
            return text.split(separator: "\n").map(String.init).filter { line in
                guard case .string(let run)? = (try? JSONValue(parsing: line))?["run"] else { return false }
                return runs.contains(run)
            }
        }
        let records = CSVRecords.split(text)
        let index = try #require(records.first?.fields.firstIndex(of: column), "\(file) has no \(column) column")
        return records.dropFirst().filter { runs.contains($0.fields[index]) }.map(\.raw)
    }

    /// `Reports/sim-vs-real/` is what `conlab compare` makes of the committed simulated suite and
    /// the committed real runs (the real runs themselves cannot be re-run byte for byte).
    @Test func simulatorVersusRealComparisonMatchesItsInputs() throws {
        var comparison = try DriverComparison(simulated: path("Reports/cap-suite"), real: path("Reports/sim-vs-real/real"))
        comparison.simulatedDirectory = "Reports/cap-suite"
        comparison.realDirectory = "Reports/sim-vs-real/real"
        let expected = [
            "README.md": ComparisonReport.markdown(comparison, command: Self.comparisonCommand),
            "verdicts.csv": ComparisonReport.verdictsCSV(comparison),
            "availability.csv": ComparisonReport.availabilityCSV(comparison),
        ]
        for (file, text) in expected {
            let committed = try String(contentsOfFile: path("Reports/sim-vs-real/" + file), encoding: .utf8)
            #expect(committed == text, "Reports/sim-vs-real/\(file) is stale: run `\(Self.comparisonCommand)`")
        }
        // Every difference that matters is explained, by run, in Experiments/README.md.
        let explained = try String(contentsOfFile: path("Experiments/README.md"), encoding: .utf8)
        for row in comparison.disagreements {
            #expect(explained.contains("`\(row.run)` \(row.verdict.rawValue)"), "Experiments/README.md does not explain \(row.run) \(row.verdict.rawValue)")
        }
        for row in comparison.outsideTolerance {
            #expect(explained.contains("`\(row.run)` availability"), "Experiments/README.md does not explain \(row.run)'s availability")
        }
    }

    /// `Reports/alternatives/` keeps the promises its README states, run by run: etcd (on either
    /// timing) and our `raft` linearizable with no acknowledged write lost and no divergence in
    /// every scenario; Redis with Sentinel and our `primary-backup` losing acknowledged writes
    /// when the primary is cut off in a minority (`leader-isolated`), as Jepsen found for Redis.
    @Test func alternativesReportKeepsItsPromises() throws {
        let rows = try CSVReader(path("Reports/alternatives"), "summary.csv",
                                 required: ["scenario", "protocol", "linearizable", "lost_writes", "divergent_keys", "driver"]).rows
        let scenarios = Set(rows.map { $0.string("scenario") })
        #expect(scenarios.count == 11, "the 11 CAP scenarios of Experiments/alternatives.json")
        for row in rows {
            let run = "\(row.string("scenario")) \(row.string("protocol"))[\(row.string("variant"))]"
            #expect(row.string("driver") == "real", "\(run)")
            guard ["raft", "etcd"].contains(row.string("protocol")) else { continue }
            #expect(row.string("linearizable") == "true", "\(run)")
            #expect(try row.int("lost_writes") == 0 && row.int("divergent_keys") == 0, "\(run)")
        }
        for system in ["redis-sentinel", "primary-backup"] {
            let isolated = try #require(rows.first { $0.string("scenario") == "leader-isolated" && $0.string("protocol") == system })
            #expect(try isolated.int("lost_writes") > 0, "\(system) loses acknowledged writes when its primary is cut off")
        }
        #expect(Set(rows.map { $0.string("protocol") + "[" + $0.string("variant") + "]" }).count == 6, "raft, zab, primary-backup, etcd twice, Redis")
    }

    static let comparisonCommand = "conlab compare Reports/cap-suite Reports/sim-vs-real/real --out Reports/sim-vs-real"

    @Test func capSuiteRowsMatchARerunOfOneScenario() throws {
        let experiment = try ExperimentDefinition.load(path: path("Experiments/cap-suite.json"))
        let plan = Runner.plan(experiment: experiment.name, scenarios: experiment.scenarios)
            .filter { $0.scenario.name == "two-dc" && $0.seed == 1 }
        #expect(plan.count >= 5, "every backend of two-dc, seed 1")
        let outputs = Runner.run(plan)
        let runs = Set(plan.map(\.id))
        let fresh: [(file: String, text: String)] = [
            ("summary.csv", ReportWriter.summary(outputs).text), ("timeseries.csv", ReportWriter.timeseries(outputs).text),
            ("events.csv", ReportWriter.events(outputs).text), ("faults.csv", ReportWriter.faults(outputs).text),
            ("latency.csv", ReportWriter.latency(outputs).text), ("anomalies.jsonl", ReportWriter.anomalyExcerpt(outputs.map(RunRecord.init))),
        ]
        for (file, text) in fresh {
            let regenerated = file.hasSuffix(".jsonl") ? text.split(separator: "\n").map(String.init)
                                                       : CSVRecords.split(text).dropFirst().map(\.raw)
            let committed = try committedRecords("Reports/cap-suite/" + file, run: "run", keeping: runs)
            #expect(committed == regenerated, "Reports/cap-suite/\(file) is stale: run `bash Reports/regenerate.sh`")
        }
    }

    /// The committed charts and page are what `conlab report` builds from the committed data files.
    @Test func capSuitePageAndChartsMatchARebuild() throws {
        let fm = FileManager.default
        let scratch = fm.temporaryDirectory.appendingPathComponent("conlab-report-\(UUID().uuidString)").path
        defer { try? fm.removeItem(atPath: scratch) }
        try fm.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        for file in Report.dataFiles where fm.fileExists(atPath: path("Reports/cap-suite/" + file)) {
            try fm.copyItem(atPath: path("Reports/cap-suite/" + file), toPath: scratch + "/" + file)
        }
        let built = try Report.build(directory: scratch)
        // PNGs (`conlab report --png`) are made locally and never committed.
        let committedCharts = try fm.contentsOfDirectory(atPath: path("Reports/cap-suite/charts")).filter { $0.hasSuffix(".svg") }.map { "charts/" + $0 }
        #expect(Set(built) == Set(committedCharts + ["index.html"]), "Reports/cap-suite has other charts than a rebuild")
        for file in built {
            let fresh = try Data(contentsOf: URL(fileURLWithPath: scratch + "/" + file))
            let committed = try? Data(contentsOf: URL(fileURLWithPath: path("Reports/cap-suite/" + file)))
            #expect(fresh == committed, "Reports/cap-suite/\(file) is stale: run `bash Reports/regenerate.sh`")
        }
    }

    @Test func figure16TrialsMatchARerunOfTheirFirstTrials() throws {
        var study = try #require(try ElectionTimeoutStudy.load(path: path("Experiments/election-timeouts.json")))
        study.trials = 25
        let range = TimeSpan.milliseconds(150)...TimeSpan.milliseconds(200)
        let trials = ElectionTrials(study: study, range: range).run()
        let label = ElectionTimeoutStudy.label(range)
        let committed = try String(contentsOfFile: path("Reports/election-timeouts/election-trials.csv"), encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { $0.hasPrefix(label + ",") }.prefix(25)
        let regenerated = ElectionTimeoutStudy.trialRows(range, trials)
        #expect(Array(committed) == regenerated, "Reports/election-timeouts is stale: run `bash Reports/regenerate.sh`")
    }

    /// Issue 20's goal, recomputed from the committed files alone: per timeout range, the
    /// Kolmogorov–Smirnov distance between the committed trials and Ongaro's published LogCabin
    /// trials (a trial without a leader counts as infinite) is the one the summary states, and it
    /// is smaller than Howard's simulator reached (the best of its network models) on every range.
    @Test func figure16IsCloserToLogCabinThanHowardsSimulatorOnEveryRange() throws {
        let study = try #require(try ElectionTimeoutStudy.load(path: path("Experiments/election-timeouts.json")))
        let reference = try #require(study.reference, "the study names its reference data")
        func rows(_ file: String) throws -> [[String: String]] {
            let lines = try String(contentsOfFile: path(file), encoding: .utf8).split(separator: "\n")
                .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            return lines.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(lines[0], $0)) }
        }
        var committed: [String: [Double?]] = [:]
        for row in try rows("Reports/election-timeouts/election-trials.csv") { committed[row["range"]!, default: []].append(Double(row["election_ms"]!)) }
        let summary = try rows("Reports/election-timeouts/election-summary.csv")
        var compared = 0
        for range in study.ranges {
            let label = ElectionTimeoutStudy.label(range)
            let row = try #require(summary.first { $0["range"] == label })
            guard let published = reference.trials[range], let howard = reference.otherSimulator[range] else { continue }
            let ours = KolmogorovSmirnov.distance(try #require(committed[label]), published)
            #expect(Number.fixed(ours, 3) == row["ks_to_published"], "\(label): the summary states the distance of the committed trials")
            #expect(ours < howard, "\(label): KS \(Number.fixed(ours, 3)) is not below Howard's \(howard)")
            compared += 1
        }
        #expect(compared == 9, "the nine ranges Howard published a distance for")
    }

    /// `CONLAB_FULL=1`: the whole CAP suite (every scenario, backend and seed) re-run, and every
    /// file of the committed folder (data files, `experiment.json`, charts, page) compared with
    /// what the re-run writes, byte for byte.
    @Test(.enabled(if: full)) func capSuiteWholeReportMatchesARerun() throws {
        let experiment = try ExperimentDefinition.load(path: path("Experiments/cap-suite.json"))
        let plan = Runner.plan(experiment: experiment.name, scenarios: experiment.scenarios)
        // Records keep a run's rows only, so memory does not grow with the histories.
        let records = Parallel.map(plan, jobs: ProcessInfo.processInfo.activeProcessorCount) { RunRecord(Runner.execute($0)) }
        let scratch = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try ReportWriter.write(records, to: scratch)
        try ExperimentFile(experiment).write(to: scratch)
        try Report.build(directory: scratch)
        let fm = FileManager.default
        let written = try fm.subpathsOfDirectory(atPath: scratch).filter { !$0.hasSuffix("charts") }.sorted()
        let committedFiles = try fm.subpathsOfDirectory(atPath: path("Reports/cap-suite")).filter { !$0.hasSuffix("charts") }.sorted()
        #expect(written == committedFiles, "Reports/cap-suite holds other files than a re-run writes")
        for file in written {
            let fresh = try Data(contentsOf: URL(fileURLWithPath: scratch + "/" + file))
            let committed = try? Data(contentsOf: URL(fileURLWithPath: path("Reports/cap-suite/" + file)))
            #expect(fresh == committed, "Reports/cap-suite/\(file) differs from a full re-run: run `bash Reports/regenerate.sh`")
        }
    }

    /// `CONLAB_FULL=1`: both Figure 16 studies re-run in full (every range, every trial), and every
    /// file they write (trials, summary, charts, page) compared with the committed one.
    @Test(.enabled(if: full), arguments: ["election-timeouts", "election-timeouts-lan"])
    func figure16WholeReportMatchesARerun(experiment: String) throws {
        let study = try #require(try ElectionTimeoutStudy.load(path: path("Experiments/\(experiment).json")))
        let scratch = try Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        try study.write(study.run(jobs: ProcessInfo.processInfo.activeProcessorCount), to: scratch)
        let fm = FileManager.default
        let written = try fm.subpathsOfDirectory(atPath: scratch).filter { !$0.hasSuffix("charts") }.sorted()
        let committedFiles = try fm.subpathsOfDirectory(atPath: path("Reports/" + experiment)).filter { !$0.hasSuffix("charts") }.sorted()
        #expect(written == committedFiles, "Reports/\(experiment) holds other files than a re-run writes")
        for file in written {
            let fresh = try Data(contentsOf: URL(fileURLWithPath: scratch + "/" + file))
            let committed = try? Data(contentsOf: URL(fileURLWithPath: path("Reports/\(experiment)/" + file)))
            #expect(fresh == committed, "Reports/\(experiment)/\(file) differs from a full re-run: run `bash Reports/regenerate.sh`")
        }
    }

    static func scratchDirectory() throws -> String {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("conlab-committed-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        return scratch
    }
}
