import ConsensusCore
import Foundation
import Lab
import Testing

/// The report `conlab run` writes is the one `conlab report` rebuilds from the folder's files.
@Suite struct ReportRunTests {
    let scenario = """
    {"version": 1, "name": "report-run", "description": "The server crashes at 400 ms and restarts at 800 ms.", "nodes": 3,
     "duration": "1500ms", "quiescence": "200ms", "seeds": [1, 2], "backends": ["unreplicated"],
     "workload": {"clientsPerNode": 1, "think": "5ms", "timeout": "200ms", "retry": "50ms"},
     "faults": [{"at": "400ms", "crash": "leader"}, {"at": "800ms", "restart": "crashed"}]}
    """

    func files(_ directory: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: directory)!
        while let file = enumerator.nextObject() as? String {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory + "/" + file, isDirectory: &isDirectory), !isDirectory.boolValue {
                files[file] = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + file))
            }
        }
        return files
    }

    func run(_ name: String) throws -> (file: String, directory: String) {
        let file = ReportFixture.temporary(name) + ".json", directory = ReportFixture.temporary(name)
        try scenario.write(toFile: file, atomically: true, encoding: .utf8)
        _ = try Experiment.run(ExperimentRequest(scenarioPath: file, outputDirectory: directory, jobs: 2))
        return (file, directory)
    }

    @Test func reportRebuiltFromTheFilesEqualsTheOneRunWrote() throws {
        let (file, directory) = try run("run")
        let copy = ReportFixture.temporary("rebuilt")
        defer { for path in [file, directory, copy] { try? FileManager.default.removeItem(atPath: path) } }
        let written = try files(directory)
        #expect(written["index.html"] != nil && written["experiment.json"] != nil && written["latency.csv"] != nil)
        // Eight kinds of chart, but no elections chart: the unreplicated server has no leader to elect.
        #expect(written.keys.filter { $0.hasPrefix("charts/") }.count == 7)

        // Only the data files, as a merge or a checkout would hold them; no histories either.
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        for (name, data) in written where !name.hasPrefix("charts/") && !name.hasPrefix("runs/") && name != "index.html" {
            try data.write(to: URL(fileURLWithPath: copy + "/" + name))
        }
        let rebuilt = try Report.build(directory: copy)
        #expect(rebuilt.count == 8)
        let report = try files(copy)
        for name in written.keys.sorted() where name.hasPrefix("charts/") || name == "index.html" {
            #expect(report[name] == written[name], "\(name) differs")
        }
        // A chart left from an earlier build with another name is removed.
        try Data("<svg/>".utf8).write(to: URL(fileURLWithPath: copy + "/charts/old.svg"))
        try Report.build(directory: copy)
        #expect(!FileManager.default.fileExists(atPath: copy + "/charts/old.svg"))
    }

    @Test func latencyQuantilesAgreeWithTheSummary() throws {
        let (file, directory) = try run("latency")
        defer { for path in [file, directory] { try? FileManager.default.removeItem(atPath: path) } }
        let latency = try String(contentsOfFile: directory + "/latency.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(latency[0] == ReportWriter.latencyColumns)
        let summary = try String(contentsOfFile: directory + "/summary.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let column = { (name: String) in summary[0].firstIndex(of: name)! }
        for row in summary.dropFirst() {
            let rows = latency.filter { $0[0] == row[column("run")] }
            #expect(rows.count == 23)
            #expect(rows.map { $0[3] }.first == "0.000" && rows.map { $0[3] }.last == "1.000")
            let values = rows.map { Double($0[4])! }
            #expect(values == values.sorted(), "quantiles rise")
            #expect(rows.first { $0[3] == "0.500" }?[4] == row[column("latency_p50_ms")])
            #expect(rows.first { $0[3] == "0.990" }?[4] == row[column("latency_p99_ms")])
        }
    }

    /// `anomalies.jsonl` keeps the first few of each kind: an isolated primary's stale reads are
    /// not hidden behind the non-linearizable keys the checker lists first.
    @Test func theAnomalyExcerptKeepsTheFirstOfEachKind() throws {
        let isolated = """
        {"version": 1, "name": "excerpt", "nodes": 3, "duration": "3s", "quiescence": "500ms", "seeds": [1], "backends": ["primary-backup"],
         "workload": {"clientsPerNode": 2, "think": "5ms", "keys": 4, "mix": {"get": 50, "put": 50}},
         "faults": [{"at": "500ms", "partition": {"isolate": "leader"}}, {"at": "2500ms", "heal": true}]}
        """
        let file = ReportFixture.temporary("excerpt") + ".json", directory = ReportFixture.temporary("excerpt")
        defer { for path in [file, directory] { try? FileManager.default.removeItem(atPath: path) } }
        try isolated.write(toFile: file, atomically: true, encoding: .utf8)
        _ = try Experiment.run(ExperimentRequest(scenarioPath: file, outputDirectory: directory, jobs: 1))
        let all = try String(contentsOfFile: directory + "/runs/primary-backup_s1/anomalies.jsonl", encoding: .utf8)
        let excerpt = try String(contentsOfFile: directory + "/anomalies.jsonl", encoding: .utf8)
        func kinds(_ text: String) -> [String] {
            text.split(separator: "\n").compactMap { line in
                guard case .string(let kind)? = try? JSONValue(parsing: String(line))["kind"] else { return nil }
                return kind
            }
        }
        let counts = Dictionary(grouping: kinds(all)) { $0 }.mapValues(\.count)
        #expect((counts["non-linearizable"] ?? 0) > 3 && (counts["stale-read"] ?? 0) > 3, "the isolated primary served stale reads: \(counts)")
        let kept = Dictionary(grouping: kinds(excerpt)) { $0 }.mapValues(\.count)
        #expect(kept == counts.mapValues { min($0, 3) })
    }

    @Test func mergeRefusesShardsOfDifferentExperimentFiles() throws {
        let file = ReportFixture.temporary("shards") + ".json"
        let shards = (1...2).map { _ in ReportFixture.temporary("shard") }, merged = ReportFixture.temporary("merged")
        let refused = ReportFixture.temporary("refused")
        defer { for path in [file, merged, refused] + shards { try? FileManager.default.removeItem(atPath: path) } }
        try scenario.write(toFile: file, atomically: true, encoding: .utf8)
        for (index, directory) in shards.enumerated() {
            _ = try Experiment.run(ExperimentRequest(scenarioPath: file, outputDirectory: directory, jobs: 1, shard: Shard(parsing: "\(index + 1)/2")))
            #expect(!FileManager.default.fileExists(atPath: directory + "/index.html"), "a shard's share has no report")
        }
        try Merge.merge(shards, into: merged)
        #expect(FileManager.default.fileExists(atPath: merged + "/index.html"))
        let edited = try String(contentsOfFile: shards[1] + "/experiment.json", encoding: .utf8).replacingOccurrences(of: "800 ms", with: "900 ms")
        try edited.write(toFile: shards[1] + "/experiment.json", atomically: true, encoding: .utf8)
        let error = try #require(throws: MergeError.self) { try Merge.merge(shards, into: refused) }
        #expect(error.description.contains("experiment.json: differs"), "\(error)")
        #expect(!FileManager.default.fileExists(atPath: refused), "nothing written")
    }
}
