import ConsensusCore
import Lab
import Simulator
import Storage
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

    /// A `reject` runs out after `count` requests, or never (`"all"`), and its line says which.
    @Test func rejectCountsAreANumberOrAll() throws {
        func parse(_ count: String) throws -> FaultAction {
            try ScenarioFile.parse(#"{"version": 1, "nodes": 3, "duration": "5s", "backends": ["2pc"], "faults": [{"at": "1s", "reject": {"node": 1, "phase": "PREPARE", "count": \#(count)}}]}"#,
                                   file: "r.json")[0].faults[0].action
        }
        #expect(try parse(#""all""#) == .inject(.id(NodeID(1)), .reject(phase: "PREPARE", count: InjectedFault.everyTime)))
        #expect(try parse(#""all""#).description == "n1 rejects every PREPARE from now on")
        #expect(try parse("3").description == "n1 rejects the next 3 PREPAREs")
        #expect(try parse("1").description == "n1 rejects the next PREPARE")
        let error = try #require(throws: ScenarioError.self) { try parse(#""many""#) }
        #expect(error.path == "faults[0].reject.count" && error.reason.contains("a count or \"all\""), "\(error)")
    }

    @Test func theFileEngineAndDiskFaultsDecode() throws {
        let decoded = try scenario(#", "storage": {"engine": "file", "fsyncLatency": "1ms", "faults": {"tornWrite": 0.5, "bitFlip": 0.001, "slowSync": 0.01, "slowSyncFactor": 20}}, "faults": [{"at": "2s", "disk": {"node": "n2", "fault": "lost-write"}}], "nemesis": {"faults": ["disk", "crash"]}"#)[0]
        #expect(decoded.storage.engine == .file && decoded.storage.syncLatency == .milliseconds(1))
        #expect(decoded.storage.faults == DiskFaults(tornWrite: 0.5, bitFlip: 0.001, slowSync: 0.01, slowSyncFactor: 20))
        #expect(decoded.faults.map(\.action) == [.disk(.id(NodeID(2)), .lostWrite)])
        #expect(decoded.nemesis?.faults == [.disk, .crash])
        let defaults = try scenario("")[0]
        #expect(defaults.storage.engine == .memory && defaults.storage.faults == DiskFaults())
    }

    @Test(arguments: [
        (#", "storage": {"engine": "disk"}"#, "storage.engine", #"expected "memory" or "file", found "disk""#),
        (#", "storage": {"engine": 1}"#, "storage.engine", "expected a string"),
        (#", "storage": {"faults": {"bitFlip": 0.1}}"#, "storage.faults", "disk faults need the file engine"),
        (#", "storage": {"engine": "memory", "faults": {}}"#, "storage.faults", "disk faults need the file engine"),
        (#", "storage": {"engine": "file", "faults": {"bitFlip": 2}}"#, "storage.faults.bitFlip", "between 0 and 1"),
        (#", "storage": {"engine": "file", "faults": {"bitflip": 0.1}}"#, "storage.faults.bitflip", #"did you mean "bitFlip""#),
        (#", "storage": {"engine": "file", "faults": {"slowSyncFactor": 0.5}}"#, "storage.faults.slowSyncFactor", "between 1 and 1000"),
        (#", "faults": [{"at": "2s", "disk": {"node": "n2", "fault": "bit-flip"}}]"#, "faults[0].disk", "disk faults need the file engine"),
        (#", "storage": {"engine": "file"}, "faults": [{"at": "2s", "disk": {"node": "n2", "fault": "melt"}}]"#, "faults[0].disk.fault", "unknown disk fault; choose from bit-flip, lost-write, misdirected-write"),
        (#", "storage": {"engine": "file"}, "faults": [{"at": "2s", "disk": {"node": "n9", "fault": "bit-flip"}}]"#, "faults[0].disk.node", "not in the cluster"),
        (#", "nemesis": {"faults": ["crash", "disk"]}"#, "nemesis.faults[1]", "disk faults need the file engine"),
    ])
    func diskFaultsAreValidated(extra: String, path: String, reason: String) throws {
        let error = try #require(failure(extra))
        #expect(error.path == path)
        #expect(error.reason.contains(reason), "\(error.reason)")
    }

    /// Each of these once trapped on overflow, ran for ever or hung; the limits are `ScenarioLimits`.
    @Test(arguments: [
        (#", "quiescence": "9999999999999999999s""#, "quiescence", "longer than the longest run conlab simulates (21600s, 6 hours)"),
        (#", "faults": [{"at": "9999999999999999999s", "heal": true}]"#, "faults[0].at", "longer than the longest run"),
        (#", "quiescence": "21595s""#, "quiescence", "duration + quiescence is 21605s, longer than the longest run"),
        (#", "network": {"latency": "3000000000000s"}"#, "network.latency", "longer than the longest run"),
        (#", "network": {"latency": {"uniform": ["1ms", "13s"]}}"#, "network.latency.uniform[1]", "must be shorter than the run (13s), found 13s"),
        (#", "network": {"clientLatency": {"long-tail": {"median": "1ms", "p99": "1h"}}}"#, "network.clientLatency.long-tail.p99", "not a duration"),
        (#", "storage": {"fsyncLatency": "9000000000000s"}"#, "storage.fsyncLatency", "longer than the longest run"),
        (#", "storage": {"fsyncLatency": "20s"}"#, "storage.fsyncLatency", "must be shorter than the run (13s)"),
        (#", "storage": {"flushInterval": "0us"}"#, "storage.flushInterval", "must be at least 1ms"),
        (#", "processing": "1000s""#, "processing", "must be shorter than the run"),
        (#", "faults": [{"at": "2s", "network": {"latency": "20s"}}]"#, "faults[0].network.latency", "must be shorter than the run"),
        (#", "nemesis": {"interval": ["1us", "1us"]}"#, "nemesis.interval[0]", "must be at least 10ms, found 1us"),
        (#", "nemesis": {"length": ["1us", "1ms"]}"#, "nemesis.length[0]", "must be at least 1ms, found 1us"),
        (#", "workload": {"retry": "1us"}"#, "workload.retry", "must be at least 1ms, found 1us"),
        (#", "workload": {"redirectBackoff": "0us"}"#, "workload.redirectBackoff", "must be at least 100us"),
        (#", "workload": {"clientsPerNode": 1001}"#, "workload.clientsPerNode", "between 0 and 1000"),
        (#", "workload": {"clientsPerNode": 1000}, "sweep": {"nodes": [20]}"#, "workload.clientsPerNode", "more than the 10000 clients"),
        (#", "workload": {"mode": "open", "rate": 1e9}"#, "workload.rate", "between 0.001 and 100000"),
        (#", "workload": {"keys": 1e7}"#, "workload.keys", "between 1 and 1000000"),
        (#", "seeds": {"from": 1, "count": 10001}"#, "seeds.count", "between 1 and 10000"),
        (#", "sweep": {"nodes": [100]}"#, "nodes", "between 1 and 99"),
        (#", "sweep": {"backends": [[{"protocol": "raft", "options": {"heartbeat": "9999999999999999999s"}}]]}"#, "backends[0].options.heartbeat", "longer than the longest run"),
    ])
    func limitsAreStatedBeforeAnythingRuns(extra: String, path: String, reason: String) throws {
        let error = try #require(failure(extra))
        #expect(error.path == path)
        #expect(error.reason.contains(reason), "\(error.reason)")
    }

    @Test func theLongestRunIsAccepted() throws {
        let scenarios = try ScenarioFile.parse(#"{"version": 1, "duration": "21000s", "quiescence": "600s", "backends": ["unreplicated"], "seeds": {"from": 1, "count": 10000}}"#, file: "x.json")
        #expect(scenarios[0].duration + scenarios[0].quiescence == ScenarioLimits.runLength)
        #expect(scenarios[0].seeds.count == ScenarioLimits.seeds)
    }

    /// Suites list scenario files; one that lists itself used to fail with `unknown field "suite"`.
    @Test func aSuiteThatIncludesItselfIsACycle() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conlab-suite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let suite = directory.appendingPathComponent("suite.json"), other = directory.appendingPathComponent("other.json")
        try Data(#"{"version": 1, "suite": "s", "scenarios": ["suite.json"]}"#.utf8).write(to: suite)
        try Data(#"{"version": 1, "suite": "t", "scenarios": ["suite.json"]}"#.utf8).write(to: other)
        #expect(throws: ScenarioError(file: suite.path, path: "scenarios[0]", reason: "the suite includes itself (a cycle)")) {
            try ExperimentDefinition.load(path: suite.path)
        }
        #expect(throws: ScenarioError(file: other.path, path: "scenarios[0]", reason: "\(suite.path) is a suite; a suite lists scenario files, not other suites")) {
            try ExperimentDefinition.load(path: other.path)
        }
    }

    /// A directory, a device or bad bytes are named as such, never as a Foundation error.
    @Test func unusableFilesAreNamed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conlab-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let garbage = directory.appendingPathComponent("garbage.json").path, empty = directory.appendingPathComponent("empty.json").path
        try Data(Array(#"{"version": 1,"#.utf8) + [0x0A, 0x20, 0x22, 0xC3, 0x28, 0x22]).write(to: URL(fileURLWithPath: garbage))
        try Data().write(to: URL(fileURLWithPath: empty))
        let cases = [(directory.path, "is a directory, not a file"), ("/dev/null", "is not a regular file (a device, pipe or socket)"),
                     (garbage, "not valid UTF-8: byte 0xC3 at offset 17 (line 2)"), (empty, "the file is empty"),
                     (directory.appendingPathComponent("missing.json").path, "no such file")]
        for (path, reason) in cases {
            #expect(throws: ScenarioError(file: path, path: "$", reason: reason)) { try ExperimentDefinition.load(path: path) }
        }
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
