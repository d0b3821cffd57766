import ConsensusCore
import Foundation
@testable import Jepsen
@testable import Lab
import Sharding
import Testing

/// A sharded scenario run against real processes (`conlab run --real`): every server group and
/// the metaserver a cluster of `conlab serve` processes, clients routing by the table, the
/// operator and the controller moving buckets at the scenario's times, judged by the lab's
/// checker. Twelve processes for about 8 s (one seed; three under `CONLAB_FULL=1`).
@Suite(.serialized) struct ShardedRealScenarioTests {
    static let scenario = """
    {"version": 1, "name": "real-sharded", "duration": "5s", "quiescence": "1500ms", "backends": ["raft"],
     "sharded": {"groups": 2, "nodesPerGroup": 3, "buckets": 8, "metaserver": 3, "transactions": {"share": 0.2, "keys": 2}},
     "workload": {"clientsPerNode": 3, "keys": 24},
     "faults": [
       {"at": "1500ms", "join": "g3"},
       {"at": "2s", "crash": "leader of g2"},
       {"at": "3s", "restart": "crashed of g2"},
       {"at": "3500ms", "move": {"bucket": 1, "to": "g2"}}
     ]}
    """

    /// Buckets move through a join and a manual move while g2's leader is killed and comes back,
    /// and a fifth of the operations are cross-shard transactions; the merged history is
    /// linearizable, no acknowledged write is lost, each group's replicas agree, every replica
    /// decided every transaction alike, and the reports show the groups, the moves, the
    /// configuration changes and the transactions.
    @Test func aShardedDeploymentOfRealProcessesKeepsEveryAcknowledgedWriteThroughItsMoves() throws {
        guard let conlab = RealScenarioTests.conlab() else { return }
        let (result, folder) = try RealScenarioTests.run(Self.scenario, name: "real-sharded", conlab: conlab)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let rows = try RealScenarioTests.summary(folder)
        #expect(rows.count == result.records.count)
        for (id, row) in rows {
            let replay = RealScenarioTests.replay(row, "real-sharded")
            #expect(row["driver"] == "real", "\(id)")
            #expect(Int(row["ops_ok"]!)! > 100, "\(id): the clients are served; \(replay)")
            #expect(row["linearizable"] == "true", "\(id): linearizable per key across the moves; \(replay)")
            #expect(row["lost_writes"] == "0", "\(id): \(replay)")
            #expect(row["divergent_keys"] == "0", "\(id): \(replay)")
            #expect(row["atomicity_violations"] == "0", "\(id): \(replay)")
        }
        let out = folder + "/out"
        let groups = try String(contentsOfFile: out + "/groups.csv", encoding: .utf8)
        for line in ["g1,n1 n2 n3,", "g2,n4 n5 n6,", "g3,n7 n8 n9,"] { #expect(groups.contains(line), "groups.csv: \(groups)") }
        let migrations = try String(contentsOfFile: out + "/migrations.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        // The join gives g3 a share of the buckets (version 2); the move takes bucket 1 to g2 (version 3).
        #expect(migrations.contains { $0.split(separator: ",")[1] == "2" && $0.split(separator: ",")[4] == "g3" }, "\(migrations)")
        #expect(migrations.contains { $0.split(separator: ",")[1] == "3" && $0.split(separator: ",")[2] == "1" && $0.split(separator: ",")[4] == "g2" }, "\(migrations)")
        // Transactions committed, some across both groups, each with its id and outcome.
        let transactions = try String(contentsOfFile: out + "/transactions.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(transactions.filter { $0[6] == "committed" }.count > 5, "\(transactions)")
        #expect(transactions.contains { $0[2] == "g1 g2" && $0[6] == "committed" }, "a transaction over two groups committed: \(transactions)")
        let events = try String(contentsOfFile: out + "/events.csv", encoding: .utf8)
        #expect(events.contains("v1: join g1, g2") && events.contains("v2: join g3") && events.contains("v3: move b1 to g2"), "the operator made every change")
        #expect(events.contains("g2: crash leader → n4") || events.contains("g2: crash leader → n5") || events.contains("g2: crash leader → n6"),
                "the crash is g2's, its nodes numbered across the deployment")
        #expect(!events.contains("bucket-served-twice"))
        // Operations went to every group's nodes (numbered across the deployment: g3's are n7…n9).
        let history = try String(contentsOfFile: out + "/runs/raft_s1/history.jsonl", encoding: .utf8)
        let nodes = Set(history.split(separator: "\n").compactMap { line in
            line.range(of: "\"node\":").flatMap { Int(line[$0.upperBound...].prefix { $0.isNumber }) }
        })
        for group in [1...3, 4...6, 7...9] { #expect(!nodes.isDisjoint(with: group), "operations at \(group): \(nodes.sorted())") }
        #expect(nodes.isSubset(of: 1...9), "no operation at a metaserver node: \(nodes.sorted())")
    }

    /// The atomicity check is fed by every replica: each committed transaction is decided, and
    /// decided commit, at every node of every group it wrote to (read over the admin channel).
    @Test func everyReplicaOfEveryGroupAWriteTouchedDecidesItsTransaction() throws {
        guard let conlab = RealScenarioTests.conlab() else { return }
        let output = try Self.execute("""
        {"version": 1, "name": "real-sharded-transactions", "duration": "3s", "quiescence": "1s", "backends": ["raft"],
         "sharded": {"groups": 2, "nodesPerGroup": 3, "buckets": 8, "metaserver": 3, "transactions": {"share": 0.5, "keys": 2}},
         "workload": {"clientsPerNode": 2, "keys": 16}}
        """, conlab: conlab)
        let committed = output.sharded!.transactions.filter { $0.result == .committed }
        #expect(committed.count > 10, "transactions commit: \(output.sharded!.transactions.count) in all")
        for transaction in committed {
            let nodes = transaction.groups.flatMap { group in output.sharded!.groups.first { $0.group == group }!.nodes }
            let decided = output.result.namedTransactions[transaction.id] ?? [:]
            #expect(Set(decided.keys) == Set(nodes) && decided.values.allSatisfy { $0 }, "\(transaction.id) at \(nodes): \(decided)")
        }
        #expect(output.consistency.anomaliesJSONL.isEmpty, "\(output.consistency.anomaliesJSONL.prefix(500))")
        // A group answers a transaction's step outside any session: had a step opened a client's
        // connection, its next write there would have named a session never opened, and the
        // client would have gone on under a new id.
        #expect(Set(output.result.history.map(\.client.rawValue)).isSubset(of: 1...4), "every client kept its session")
    }

    /// A client reaches a group through one member and moves on to the next when that one is
    /// down: while g1's n1 is killed, every client — those that started at n1 too — is served by g1.
    @Test func aClientWhoseMemberIsDownGoesThroughAnother() throws {
        guard let conlab = RealScenarioTests.conlab() else { return }
        let output = try Self.execute("""
        {"version": 1, "name": "real-sharded-member-down", "duration": "5s", "quiescence": "1s", "backends": ["raft"],
         "sharded": {"groups": 2, "nodesPerGroup": 3, "buckets": 8, "metaserver": 3},
         "workload": {"clientsPerNode": 3, "keys": 16},
         "faults": [{"at": "1s", "crash": "n1 of g1"}, {"at": "4s", "restart": "crashed of g1"}]}
        """, conlab: conlab)
        let window = Instant.zero + .milliseconds(1500)...Instant.zero + .milliseconds(3500)
        for client in 1...6 {
            let served = output.result.history.filter { $0.client.rawValue == client && (1...3).contains($0.node.rawValue) && window.contains($0.invoke) && $0.outcome.name == "ok" }
            #expect(!served.isEmpty, "c\(client) is served by g1 while n1 is down")
        }
        #expect(output.consistency.anomaliesJSONL.isEmpty, "\(output.consistency.anomaliesJSONL.prefix(500))")
    }

    /// Runs `text` as one run (seed 1) of the first backend with the real driver.
    static func execute(_ text: String, conlab: String) throws -> RunOutput {
        let folder = NSTemporaryDirectory() + "conlab-jepsen-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/s.json"
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        let scenario = try ScenarioFile.load(path: file)[0]
        return try RealDriver(executable: conlab).execute(RunSpec(experiment: scenario.name, scenario: scenario, backend: scenario.backends[0], seed: 1, id: "raft_s1"))
    }

    /// What the real driver cannot carry out of a sharded scenario is refused before anything runs.
    @Test func whatRealProcessesCannotRunIsRefused() throws {
        let cases: [(sharded: String, network: RealNetwork, named: String)] = [
            (#""bug": "serve-while-leaving""#, .loopback, "sharded.bug: a planted bug"),
            (#""buckets": 8"#, .namespaces, "sharded: network namespaces"),
        ]
        for (extra, network, named) in cases {
            let folder = NSTemporaryDirectory() + "conlab-jepsen-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let file = folder + "/s.json"
            try Data(#"{"version": 1, "name": "s", "duration": "2s", "backends": ["raft"], "sharded": {"groups": 2, \#(extra)}}"#.utf8)
                .write(to: URL(fileURLWithPath: file))
            let request = ExperimentRequest(scenarioPath: file, outputDirectory: folder + "/out", driver: RealDriver(executable: "/nonexistent", network: network))
            let error = #expect(throws: ScenarioError.self) { try Experiment.run(request) }
            #expect(error?.description.contains(named) == true, "\(error?.description ?? "no error")")
        }
    }
}
