import ConsensusCore
import Foundation
@testable import Lab
import Testing

/// The committed reference reports (`Reports/`) must be what the code produces: a slice of each
/// experiment is re-run and compared, row by row, with the committed files.
@Suite struct CommittedReportTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

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
        let committedCharts = try fm.contentsOfDirectory(atPath: path("Reports/cap-suite/charts")).map { "charts/" + $0 }
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
}
