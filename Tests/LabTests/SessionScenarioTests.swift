import ConsensusCore
import Lab
import Testing

/// The session settings in scenario files, and clients that keep several requests in flight.
@Suite struct SessionScenarioTests {
    func failure(_ text: String) -> ScenarioError? {
        do { _ = try ScenarioFile.parse(text, file: "s.json"); return nil } catch { return error }
    }

    /// A session must outlive the clients' retries, and keep an answer for each request a client
    /// may have in flight: the error points at the setting that breaks it.
    @Test(arguments: [
        (#""backends": [{"protocol": "raft", "options": {"sessionTimeout": "500ms"}}]"#, "backends[0].options.sessionTimeout",
         "sessionTimeout 500ms is not longer than the workload's timeout 1s"),
        (#""backends": ["zab"], "workload": {"timeout": "90m"}"#, "workload.timeout", "sessionTimeout 3600s is not longer than the workload's timeout 5400s"),
        (#""backends": [{"protocol": "2pc", "options": {"sessionTimeout": "0ms"}}]"#, "backends[0].options.sessionTimeout", "must be longer than zero"),
        (#""backends": [{"protocol": "primary-backup", "options": {"sessionResults": 0}}]"#, "backends[0].options.sessionResults", "must be at least 1"),
        (#""backends": ["unreplicated", {"protocol": "raft", "options": {"sessionResults": 4}}], "workload": {"mode": "open", "rate": 10, "outstanding": 8}"#,
         "backends[1].options.sessionResults", "sessionResults 4 is below the workload's outstanding 8"),
        (#""backends": ["3pc"], "workload": {"mode": "open", "rate": 10, "outstanding": 100}"#, "workload.outstanding", "sessionResults 64 is below"),
        (#""backends": ["raft"], "workload": {"outstanding": 2}"#, "workload.outstanding", "applies to open-loop workloads"),
        (#""backends": ["raft"], "workload": {"mode": "open", "rate": 10, "outstanding": 0}"#, "workload.outstanding", "between 1 and 1000"),
    ])
    func sessionSettingsAreChecked(fields: String, path: String, reason: String) throws {
        let error = try #require(failure(#"{"version": 1, "# + fields + "}"))
        #expect(error.path == path)
        #expect(error.reason.contains(reason), "\(error.reason)")
    }

    @Test func sessionOptionsNameTheirVariantAndEveryBackendOffersThem() throws {
        let scenario = try ScenarioFile.parse(#"""
        {"version": 1, "backends": [{"protocol": "raft", "options": {"sessionTimeout": "10m", "sessionResults": 8}}],
         "workload": {"mode": "open", "rate": 10, "outstanding": 8}}
        """#, file: "s.json")[0]
        #expect(scenario.backends.map(\.label) == ["raft[sessionTimeout=10m;sessionResults=8]"])
        #expect(scenario.workload.outstanding == 8)
        for backend in Backends.all {
            #expect(backend.options.map(\.name).suffix(2) == ["sessionTimeout", "sessionResults"], "\(backend.name)")
        }
    }

    /// Open-loop clients with up to four requests in flight, under a leader crash and a lossy,
    /// duplicating network: every backend that promises linearizability keeps it (each request is
    /// applied at most once and answered with its first result), and clients did pipeline.
    @Test func pipeliningClientsStayLinearizable() throws {
        let scenarios = try ScenarioFile.parse(#"""
        {"version": 1, "name": "pipelined", "nodes": 3, "duration": "3s", "quiescence": "1s", "seeds": [1, 2],
         "backends": ["unreplicated", "raft", {"protocol": "raft", "options": {"read": "log"}}, {"protocol": "zab", "options": {"read": "sync"}}, "2pc"],
         "workload": {"mode": "open", "rate": 80, "outstanding": 4, "clientsPerNode": 1, "keys": 8, "timeout": "400ms", "retry": "100ms"},
         "network": {"loss": 0.02, "duplicate": 0.05, "reorder": 0.05},
         "faults": [{"at": "1s", "crash": "leader"}, {"at": "1500ms", "restart": "crashed"}]}
        """#, file: "pipelined.json")
        let outputs = Runner.run(Runner.plan(experiment: "pipelined", scenarios: scenarios), jobs: 2)
        for output in outputs {
            let run = "\(output.spec.backend.label) seed \(output.spec.seed)"
            #expect(output.consistency.linearizable == .linearizable, "\(run): \(output.consistency.linearizable)")
            let byClient = Dictionary(grouping: output.result.history, by: \.client)
            let overlapping = byClient.values.contains { operations in
                operations.indices.dropFirst().contains { position in
                    operations[position - 1].complete.map { operations[position].invoke < $0 } ?? false
                }
            }
            #expect(overlapping, "\(run): no client had two operations in flight")
            let ok = output.result.history.filter { if case .ok = $0.outcome { true } else { false } }.count
            #expect(ok > output.result.history.count / 2, "\(run): \(ok) of \(output.result.history.count) served")
        }
    }
}
