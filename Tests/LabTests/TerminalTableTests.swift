import ConsensusCore
import Foundation
@testable import Lab
import Testing

/// The table `conlab run` prints shows everything the checker found, not only the linearizability
/// verdict, and fits a 100-column terminal.
@Suite struct TerminalTableTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `3pc-partition-precommit` without its heal at 6 s, written into `directory`: the partition
    /// lasts until the clients stop, and no read crosses the two sides' different values.
    static func unhealedPartition(in directory: String) throws -> String {
        let text = try String(contentsOfFile: root.path + "/Experiments/3pc-partition-precommit.json", encoding: .utf8)
        guard case .object(var members) = try JSONValue(parsing: text), let index = members.firstIndex(where: { $0.0 == "faults" }),
              case .array(let faults) = members[index].1 else { throw ScenarioError(file: "3pc-partition-precommit.json", path: "faults", reason: "expected an array") }
        members[index].1 = .array(faults.filter { $0["heal"] == nil })
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/3pc-partition-precommit.json"
        try JSONValue.object(members).serialized.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// 3PC with a partition after PRE-COMMIT (not healed while clients run): linearizable on every
    /// key, yet its replicas diverge and a transaction commits on one side and aborts on the
    /// other. A table that showed only `linearizable` would call this run clean.
    @Test func aLinearizableRunThatDivergesShowsItsDivergence() throws {
        let directory = ReportFixture.temporary("terminal")
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: directory + "-scenario")
        }
        let result = try Experiment.run(ExperimentRequest(scenarioPath: try Self.unhealedPartition(in: directory + "-scenario"),
                                                          outputDirectory: directory, backends: ["3pc"], seeds: [1], jobs: 1))
        let line = try #require(result.records.first?.line)
        let summary = try String(contentsOfFile: directory + "/summary.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let column = { (name: String) in summary[1][summary[0].firstIndex(of: name)!] }
        #expect(line.linearizable == .linearizable)
        #expect(line.divergentKeys == Int(column("divergent_keys")) && line.divergentKeys > 0)
        #expect(line.atomicityViolations == Int(column("atomicity_violations")) && line.atomicityViolations > 0)
        #expect(line.refused + line.casMismatches == Int(column("ops_failed")))
        let text = Experiment.summaryText(result)
        let runs = result.records.count  // both 3PC variants (with and without the termination protocol) diverge here
        #expect(text.contains("anomalies in \(runs) of \(runs) runs"))
        let figures = TerminalTable.figures(line)
        #expect(figures[TerminalTable.header.firstIndex(of: "div")!] == String(line.divergentKeys))
        #expect(figures[TerminalTable.header.firstIndex(of: "lin")!] == "yes")
    }

    /// Long run ids go on a line of their own; no line is wider than 100 columns.
    @Test(arguments: [3, 40])
    func everyLineFitsOneHundredColumns(idLength: Int) throws {
        let directory = ReportFixture.temporary("terminal-width")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try Experiment.run(ExperimentRequest(scenarioPath: Self.root.path + "/Experiments/3pc-partition-precommit.json",
                                                          outputDirectory: directory, backends: ["3pc"], seeds: [1], jobs: 1))
        var line = try #require(result.records.first?.line)
        line.id = String(repeating: "r", count: idLength)
        line.ok = 9_999_999
        let rendered = TerminalTable.render([line, line])
        #expect(rendered.allSatisfy { $0.count <= TerminalTable.width }, "\(rendered.filter { $0.count > TerminalTable.width })")
        #expect(rendered.contains { $0.hasPrefix(line.id + " ") } == (idLength == 3))
        #expect(rendered.contains(line.id) == (idLength == 40))
    }
}

/// `--backend` takes a protocol (every variant), a variant as the scenario lists it, or a variant
/// as run ids and the terminal table spell it.
@Suite struct BackendSelectionTests {
    static let scenario = TerminalTableTests.root.path + "/Experiments/leader-isolated.json"

    func variants(_ filter: [String]) throws -> Set<String> {
        let definition = try ExperimentDefinition.load(path: Self.scenario)
        return Set(Runner.plan(experiment: definition.name, scenarios: definition.scenarios, backendFilter: filter, seeds: [1]).map(\.backend.label))
    }

    @Test func eachFormSelectsWhatItNames() throws {
        #expect(try variants(["raft"]) == ["raft", "raft[read=lease]", "raft[read=unsafeLocal]"])
        #expect(try variants(["raft[read=lease]"]) == ["raft[read=lease]"])
        #expect(try variants(["raft_read_lease"]) == ["raft[read=lease]"])
        #expect(try variants(["raft_read_lease", "zab"]) == ["raft[read=lease]", "zab"])
    }

    @Test func anUnknownNameIsBadInputListingTheBackends() throws {
        let error = #expect(throws: ScenarioError.self) {
            try Experiment.run(ExperimentRequest(scenarioPath: Self.scenario, outputDirectory: ReportFixture.temporary("unused"), backends: ["raft_read"]))
        }
        #expect(error?.description.contains("raft[read=lease]") == true)
    }
}

/// `--histories failing` keeps the histories of the runs with anomalies and only those; every
/// other file is written for every run.
@Suite struct HistoryRetentionTests {
    @Test(arguments: HistoryRetention.allCases)
    func onlyTheChosenRunsKeepTheirHistory(retention: HistoryRetention) throws {
        let directory = ReportFixture.temporary("histories-\(retention)")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var request = ExperimentRequest(scenarioPath: TerminalTableTests.root.path + "/Experiments/3pc-partition-precommit.json",
                                        outputDirectory: directory, backends: ["2pc", "3pc"], seeds: [1], jobs: 2)
        request.histories = retention
        let result = try Experiment.run(request)
        let flagged = result.records.filter(\.line.hasAnomalies).map(\.spec.id)
        #expect(!flagged.isEmpty && flagged.count < result.records.count, "needs clean and flagged runs: \(flagged)")
        for record in result.records {
            let kept = FileManager.default.fileExists(atPath: "\(directory)/runs/\(record.spec.id)/history.jsonl")
            let expected = retention == .all || (retention == .failing && flagged.contains(record.spec.id))
            #expect(kept == expected, "\(record.spec.id)")
        }
        let summary = try String(contentsOfFile: directory + "/summary.csv", encoding: .utf8)
        #expect(summary.split(separator: "\n").count == result.records.count + 1)
    }
}
