import ConsensusCore
import Lab
import Testing

@Suite struct ScenarioValidationTests {
    let base = """
    {"version": 1, "nodes": 5, "duration": "10s", "backends": ["unreplicated"]%@}
    """

    func scenario(_ extra: String) throws -> [Scenario] {
        try ScenarioFile.parse(base.replacingOccurrences(of: "%@", with: extra), file: "test.json")
    }

    func failure(_ extra: String) -> ScenarioError? {
        do { _ = try scenario(extra); return nil } catch let error as ScenarioError { return error } catch { return nil }
    }

    @Test func aValidScenarioDecodes() throws {
        let scenarios = try scenario(#", "seeds": {"from": 3, "count": 2}, "workload": {"think": {"uniform": ["1ms", "5ms"]}, "mix": {"put": 1}}, "faults": [{"at": "2s", "crash": "leader"}, {"at": "3s", "restart": "crashed"}]"#)
        #expect(scenarios.count == 1)
        #expect(scenarios[0].name == "test")
        #expect(scenarios[0].seeds == [3, 4])
        #expect(scenarios[0].faults.count == 2)
    }

    @Test(arguments: [
        (#", "nodez": 3"#, "nodez", "unknown field \"nodez\""),
        (#", "quiescence": "10""#, "quiescence", "not a duration"),
        (#", "workload": {"timeout": 5}"#, "workload.timeout", "expected a duration with a unit"),
        (#", "workload": {"thinkTime": "5ms"}"#, "workload.thinkTime", "unknown field"),
        (#", "faults": [{"at": "2s", "crash": "n7"}]"#, "faults[0].crash", "not in the cluster"),
        (#", "faults": [{"at": "2s", "crash": 0}]"#, "faults[0].crash", "between 1 and 5"),
        (#", "faults": [{"at": "12s", "heal": true}]"#, "faults[0].at", "not before the end of the run"),
        (#", "faults": [{"at": "2s", "partition": [[1, 2, 3], [3, 4, 5]]}]"#, "faults[0].partition[1][0]", "in two groups"),
        (#", "faults": [{"at": "2s", "partition": [[1, 2], [4, 5]]}]"#, "faults[0].partition", "groups miss n3"),
        (#", "faults": [{"when": {"sent": "COMMIT"}, "crash": "leader"}]"#, "faults[0].when.sent", "no backend of this scenario sends \"COMMIT\""),
        (#", "faults": [{"at": "2s", "crash": "leader", "heal": true}]"#, "faults[0]", "one action"),
        (#", "faults": [{"at": "2s", "drop": {"kinds": ["VOTE"], "from": 1, "to": 2}}]"#, "faults[0].drop.kinds[0]", "no backend of this scenario sends \"VOTE\""),
        (#", "faults": [{"at": "2s", "partition": "triangle"}]"#, "faults[0].partition", "unknown partition shape"),
        (#", "network": {"loss": 1.5}"#, "network.loss", "between 0 and 1"),
        (#", "start": {"n9": "1s"}"#, "start.n9", "unknown field"),
        (#", "nemesis": {"faults": ["meteor"]}"#, "nemesis.faults[0]", "unknown nemesis fault"),
    ])
    func badInputNamesFilePathAndReason(extra: String, path: String, reason: String) throws {
        let error = try #require(failure(extra))
        #expect(error.file == "test.json")
        #expect(error.path == path)
        #expect(error.reason.contains(reason), "\(error.reason)")
    }

    @Test func unknownBackendsAndVersionsAreRefused() {
        #expect(throws: ScenarioError.self) { try ScenarioFile.parse(#"{"version": 1, "backends": ["paxos"]}"#, file: "x.json") }
        #expect(throws: ScenarioError.self) { try ScenarioFile.parse(#"{"version": 2, "backends": ["unreplicated"]}"#, file: "x.json") }
        #expect(throws: ScenarioError.self) { try ScenarioFile.parse(#"{"backends": ["unreplicated"]}"#, file: "x.json") }
        #expect(throws: ScenarioError.self) { try ScenarioFile.parse(#"{"version": 1, "backends": [{"protocol": "unreplicated", "options": {"read": "lease"}}]}"#, file: "x.json") }
    }

    @Test func sweepsProduceTheCrossProduct() throws {
        let scenarios = try scenario(#", "network": {"loss": 0}, "sweep": {"nodes": [3, 5], "network.loss": [0, 0.1, 0.2]}"#)
        #expect(scenarios.count == 6)
        #expect(scenarios.map(\.nodes) == [3, 3, 3, 5, 5, 5])
        #expect(scenarios.map(\.network.loss) == [0, 0.1, 0.2, 0, 0.1, 0.2])
        #expect(scenarios[4].sweepLabel == "nodes=5;network.loss=0.1")
        let bad = failure(#", "sweep": {"nodes": [3, 500]}"#)
        #expect(bad?.path == "nodes")
        #expect(bad?.reason.hasSuffix("(in sweep point nodes=500)") == true, "\(String(describing: bad))")
        #expect(failure(#", "sweep": {"network.loss": [0.1]}"#)?.reason.contains("does not name a value") == true)
    }

    @Test func everyShippedScenarioIsValid() throws {
        let experiments = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Experiments")
        let files = try FileManager.default.contentsOfDirectory(atPath: experiments.path).filter { $0.hasSuffix(".json") }
        #expect(files.count >= 13)
        for file in files {
            let path = experiments.appendingPathComponent(file).path
            if try ElectionTimeoutStudy.load(path: path) == nil { _ = try ExperimentDefinition.load(path: path) }
        }
    }
}

import Foundation
