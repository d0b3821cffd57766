import ConsensusCore
import Foundation
import Lab
import Testing

@Suite struct RunnerTests {
    let text = """
    {"version": 1, "name": "tiny", "nodes": 3, "duration": "2s", "quiescence": "500ms", "seeds": [1, 2, 3],
     "backends": ["unreplicated"],
     "workload": {"clientsPerNode": 2, "think": {"uniform": ["1ms", "10ms"]}, "timeout": "300ms", "retry": "100ms"},
     "network": {"loss": 0.05, "duplicate": 0.05},
     "faults": [{"at": "500ms", "crash": "leader"}, {"at": "1s", "restart": "crashed"}]}
    """

    func outputs(jobs: Int) throws -> [RunOutput] {
        let scenarios = try ScenarioFile.parse(text, file: "tiny.json")
        return Runner.run(Runner.plan(experiment: "tiny", scenarios: scenarios), jobs: jobs)
    }

    func files(_ outputs: [RunOutput]) throws -> [String: String] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conlab-runner-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var contents: [String: String] = [:]
        for file in try ReportWriter.write(outputs, to: directory) {
            contents[file] = try String(contentsOfFile: (directory as NSString).appendingPathComponent(file), encoding: .utf8)
        }
        return contents
    }

    @Test func sameSeedGivesIdenticalBytesAndParallelEqualsSequential() throws {
        let sequential = try files(outputs(jobs: 1))
        let parallel = try files(outputs(jobs: 3))
        #expect(sequential == parallel)
        #expect(sequential.keys.sorted() == ["anomalies.jsonl", "events.csv", "faults.csv", "latency.csv", "runs/unreplicated_s1/history.jsonl", "runs/unreplicated_s2/history.jsonl",
                                             "runs/unreplicated_s3/history.jsonl", "summary.csv", "timeseries.csv"])
        #expect(sequential["runs/unreplicated_s1/history.jsonl"] != sequential["runs/unreplicated_s2/history.jsonl"])
    }

    @Test func summaryHasTheDesignColumnsAndOneRowPerRun() throws {
        let summary = try files(outputs(jobs: 2))["summary.csv"]!
        let lines = summary.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("experiment,scenario,protocol,variant,nodes,seed,ops_ok,ops_failed,ops_indeterminate,availability,throughput_ops_s,latency_p50_ms,latency_p95_ms,latency_p99_ms,msgs_total,msgs_per_op,leader_changes,max_unavailable_ms,recovery_ms,linearizable,stale_reads,lost_writes,divergent_keys,atomicity_violations"))
        let row = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        #expect(row[0] == "tiny" && row[2] == "unreplicated" && row[4] == "3" && row[5] == "1")
        let availability = try #require(Double(row[9]))
        #expect(availability > 0.5 && availability < 1, "the server was down for half a second of two")
        #expect(Double(row[17])! >= 450, "max_unavailable_ms covers the outage")
        // Later columns go at the end: the driver that ran the run, then atomic commit's waits in
        // doubt (empty for a backend without them).
        #expect(lines[0].hasSuffix(",safety_violations,driver,in_doubt_txns,in_doubt_max_ms,in_doubt_unresolved"))
        #expect(row.suffix(4) == ["sim", "", "", ""])
    }

    @Test func historiesUseTheDesignFormat() throws {
        let history = try files(outputs(jobs: 1))["runs/unreplicated_s1/history.jsonl"]!
        let first = try JSONValue(parsing: String(history.split(separator: "\n")[0]))
        guard case .object(let members) = first else { Issue.record("not an object"); return }
        #expect(Array(members.map(\.key).prefix(5)) == ["id", "client", "node", "op", "key"])
        #expect(history.contains(#""outcome":"indeterminate""#))
        #expect(history.contains(#""complete_us":null"#))
    }
}
