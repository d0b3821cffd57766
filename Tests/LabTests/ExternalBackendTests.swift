import ConsensusCore
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

    @Test(arguments: [
        (#"[{"external": "zookeeper"}]"#, "backends[0].external", "unknown external system \"zookeeper\""),
        (#"[{"external": "etcd", "options": {"read": "lease"}}]"#, "backends[0].options.read", "expected \"linearizable\" or \"serializable\""),
        (#"[{"external": "redis-sentinel", "options": {"quorum": 2}}]"#, "backends[0].options.quorum", "takes only \"read\""),
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
}
