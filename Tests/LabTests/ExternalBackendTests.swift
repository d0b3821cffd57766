import ConsensusCore
import Foundation
import Lab
import Testing

/// External systems (`{"external": "etcd"}`) as a scenario names them: decoded with their one
/// option, refused by the simulator, refused where a node would have to serve them.
@Suite struct ExternalBackendTests {
    func scenario(_ backends: String) throws -> Scenario {
        try ScenarioFile.parse(#"{"version": 1, "nodes": 3, "duration": "5s", "backends": \#(backends)}"#, file: "alt.json")[0]
    }

    func failure(_ backends: String) -> ScenarioError? {
        do { _ = try scenario(backends); return nil } catch let error as ScenarioError { return error } catch { return nil }
    }

    @Test func externalSystemsDecodeBesideOurBackends() throws {
        let scenario = try scenario(#"["raft", {"external": "etcd"}, {"external": "etcd", "options": {"read": "serializable"}}, {"external": "redis-sentinel", "options": {"read": "replica"}}]"#)
        #expect(scenario.backends.map(\.label) == ["raft", "etcd", "etcd[read=serializable]", "redis-sentinel[read=replica]"])
        #expect(scenario.backends.map { $0.external?.system } == [nil, .etcd, .etcd, .redisSentinel])
        #expect(scenario.backends.map { $0.external?.cheapReads } == [nil, false, true, true])
    }

    /// etcd on our Raft's timing: the options become its flags, and the variant names them.
    @Test func etcdTakesOurRaftsTiming() throws {
        let scenario = try scenario(#"[{"external": "etcd", "options": {"heartbeat": "30ms", "electionTimeout": "150ms", "prevote": true}}]"#)
        #expect(scenario.backends[0].label == "etcd[heartbeat=30ms;electionTimeout=150ms;prevote=true]")
        guard case .etcd(let options) = try #require(scenario.backends[0].external) else { Issue.record("not etcd"); return }
        #expect(options.heartbeat == .milliseconds(30) && options.electionTimeout == .milliseconds(150) && options.preVote)
        #expect(options.read == .linearizable)
    }

    @Test(arguments: [
        (#"[{"external": "zookeeper"}]"#, "backends[0].external", "unknown external system \"zookeeper\""),
        (#"[{"external": "etcd", "options": {"read": "lease"}}]"#, "backends[0].options.read", "expected one of \"linearizable\", \"serializable\""),
        (#"[{"external": "redis-sentinel", "options": {"quorum": 2}}]"#, "backends[0].options.quorum", "unknown option; known options: read"),
        (#"[{"external": "etcd", "options": {"heartbeat": "30.5ms"}}]"#, "backends[0].options.heartbeat", "whole number of milliseconds"),
        (#"[{"external": "etcd", "options": {"heartbeat": "30ms", "electionTimeout": "100ms"}}]"#, "backends[0].options.electionTimeout",
         "at least 5 × heartbeat (150ms)"),
        (#"[{"external": "etcd", "protocol": "raft"}]"#, "backends[0]", "not both"),
        (#"["etcd"]"#, "backends[0]", "{\"external\": \"etcd\"}"),
    ])
    func badDeclarationsAreNamed(backends: String, path: String, reason: String) throws {
        let error = try #require(failure(backends))
        #expect(error.path == path)
        #expect(error.reason.contains(reason), "\(error.reason)")
    }

    @Test func theSimulatorRefusesAnExternalSystem() throws {
        let error = try #require(throws: ScenarioError.self) { try SimulatorDriver().validate(try scenario(#"["raft", {"external": "redis-sentinel"}]"#)) }
        #expect(error.reason.contains("redis-sentinel is an external system, which only the real driver runs"))
        try SimulatorDriver().validate(try scenario(#"["raft", "zab"]"#))
    }

    /// A suite's `backends` replaces every scenario's, so the same scenario files are put to the
    /// external systems (`Experiments/alternatives.json`).
    @Test func aSuiteGivesItsScenariosItsBackends() throws {
        let folder = NSTemporaryDirectory() + "conlab-suite-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data(#"{"version": 1, "name": "one", "nodes": 3, "backends": ["2pc"]}"#.utf8).write(to: URL(fileURLWithPath: folder + "/one.json"))
        try Data(#"{"version": 1, "suite": "alt", "scenarios": ["one.json"], "backends": ["raft", {"external": "etcd"}]}"#.utf8)
            .write(to: URL(fileURLWithPath: folder + "/alt.json"))
        #expect(try ExperimentDefinition.load(path: folder + "/alt.json").scenarios[0].backends.map(\.label) == ["raft", "etcd"])
        try Data(#"{"version": 1, "suite": "alt", "scenarios": ["one.json"], "backends": [{"external": "mongo"}]}"#.utf8)
            .write(to: URL(fileURLWithPath: folder + "/bad.json"))
        let error = try #require(throws: ScenarioError.self) { try ExperimentDefinition.load(path: folder + "/bad.json") }
        #expect(error.file.hasSuffix("bad.json") && error.path == "backends[0].external", "\(error)")
    }
}
