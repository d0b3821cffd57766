import ConsensusCore
import Foundation
@testable import Jepsen
import Lab
import Server
import Testing

/// Scenario files run against real `conlab serve` processes (`conlab run --real`), checked by the
/// lab's checker. They need the built executable beside the test bundle (`.build/debug/conlab`);
/// without it they say they were skipped and why. By default one short leader-isolation scenario
/// per backend family, Raft through kills and pauses and a flipped bit, a triggered crash, 3PC's
/// rejected PreCommit, 2PC's participants in doubt behind a partition, and a 40 ms scenario network
/// (about 60 s of wall time in all: 52 s measured, plus 7 s for the in-doubt test); `CONLAB_FULL=1`
/// runs three seeds of each (2 min 35 s measured before the in-doubt test, about 3 min now).
@Suite(.serialized) struct RealScenarioTests {
    static let full = ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1"

    static func conlab() -> String? {
        let folder = (NodeProcesses.currentExecutable() as NSString).deletingLastPathComponent
        let path = (folder as NSString).appendingPathComponent("conlab")
        guard FileManager.default.isExecutableFile(atPath: path) else {
            print("RealScenarioTests skipped: no conlab executable at \(path): build it with `swift build --product conlab`")
            return nil
        }
        return path
    }

    /// Writes `text` as a scenario file and runs it with the real driver into a temporary folder.
    static func run(_ text: String, name: String, conlab: String, network: RealNetwork = .loopback) throws -> (ExperimentResult, String) {
        let folder = NSTemporaryDirectory() + "conlab-jepsen-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let file = folder + "/\(name).json"
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        let request = ExperimentRequest(scenarioPath: file, outputDirectory: folder + "/out", seeds: full ? [1, 2, 3] : [1], jobs: 1,
                                        driver: RealDriver(executable: conlab, network: network))
        return (try Experiment.run(request), folder)
    }

    /// The summary rows of a run folder, by run id: column name → value.
    static func summary(_ folder: String) throws -> [String: [String: String]] {
        let lines = try String(contentsOfFile: folder + "/out/summary.csv", encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = lines[0]
        var rows: [String: [String: String]] = [:]
        for line in lines.dropFirst() {
            let row = Dictionary(uniqueKeysWithValues: zip(header, line))
            rows[row["run"]!] = row
        }
        return rows
    }

    static func replay(_ row: [String: String], _ name: String) -> String {
        "replay: conlab run \(name).json --real --backend \(row["protocol"]!) --seed \(row["seed"]!)"
    }

    /// The leader (or the lowest live node, for protocols without one) is cut off from the others
    /// for two seconds, then healed. Each backend is judged by what it promises: Raft keeps every
    /// acknowledged write and stays linearizable; ZAB keeps every acknowledged write; primary-backup
    /// may lose writes in the minority but its replicas converge after the heal; 2PC never decides
    /// a transaction both ways.
    @Test func leaderIsolationIsJudgedByEachBackendsPromise() throws {
        guard let conlab = Self.conlab() else { return }
        let scenario = """
        {"version": 1, "name": "real-leader-isolated", "nodes": 3, "duration": "3500ms", "quiescence": "1500ms",
         "backends": ["raft", "zab", "primary-backup", "2pc"],
         "workload": {"clientsPerNode": 2, "mode": "open", "rate": 40, "keys": 4, "mix": {"get": 50, "append": 50}, "timeout": "800ms"},
         "faults": [{"at": "1s", "partition": {"isolate": "leader"}}, {"at": "2500ms", "heal": true}]}
        """
        let (result, folder) = try Self.run(scenario, name: "real-leader-isolated", conlab: conlab)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let rows = try Self.summary(folder)
        #expect(rows.count == result.records.count)
        for (id, row) in rows {
            let replay = Self.replay(row, "real-leader-isolated")
            #expect(row["driver"] == "real", "\(id)")
            #expect(Int(row["ops_ok"]!)! > 0, "\(id): some operations succeed; \(replay)")
            switch row["protocol"]! {
            case "raft":
                #expect(row["linearizable"] == "true", "\(id): Raft's history is linearizable; \(replay)")
                #expect(row["lost_writes"] == "0", "\(id): Raft loses no acknowledged write; \(replay)")
                #expect(row["divergent_keys"] == "0", "\(id): \(replay)")
                #expect(row["safety_violations"] == "0", "\(id): \(replay)")
            case "zab":
                #expect(row["lost_writes"] == "0", "\(id): ZAB loses no acknowledged write; \(replay)")
                #expect(row["divergent_keys"] == "0", "\(id): \(replay)")
            case "primary-backup":
                #expect(row["divergent_keys"] == "0", "\(id): primary-backup's replicas converge after the heal; \(replay)")
            default:
                #expect(row["atomicity_violations"] == "0", "\(id): 2PC never decides a transaction both ways; \(replay)")
            }
        }
        // The fault hit a node, and the history and events are the simulator's formats.
        let events = try String(contentsOfFile: folder + "/out/events.csv", encoding: .utf8)
        #expect(events.contains("partition isolate(leader) (n"), "the partition is recorded with its reachability")
        #expect(events.contains(",fault,heal"))
    }

    /// The scenario's own network holds from the start: with 40 ms on every link, a Raft write
    /// (the leader's entry out and the follower's acknowledgement back) cannot take less than 80 ms.
    @Test func theScenarioNetworkHoldsFromTheStart() throws {
        guard let conlab = Self.conlab() else { return }
        let scenario = """
        {"version": 1, "name": "real-network", "nodes": 3, "duration": "2s", "quiescence": "500ms", "backends": ["raft"],
         "network": {"latency": "40ms"},
         "workload": {"clientsPerNode": 1, "mode": "closed", "think": "10ms", "keys": 4, "mix": {"put": 100}, "timeout": "1s"}}
        """
        let (_, folder) = try Self.run(scenario, name: "real-network", conlab: conlab)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (id, row) in try Self.summary(folder) {
            #expect(Int(row["ops_ok"]!)! > 0, "\(id)")
            #expect(Double(row["latency_p50_ms"]!)! >= 80, "\(id): writes wait for two 40 ms hops; \(Self.replay(row, "real-network"))")
        }
    }

    /// Crash with SIGKILL and restart on the data directory, pause with SIGSTOP and resume: Raft
    /// keeps its promises through both.
    @Test func raftKeepsItsPromisesThroughKillsAndPauses() throws {
        guard let conlab = Self.conlab() else { return }
        let scenario = """
        {"version": 1, "name": "real-crash-pause", "nodes": 3, "duration": "4s", "quiescence": "1500ms", "backends": ["raft"],
         "workload": {"clientsPerNode": 2, "mode": "closed", "think": "20ms", "keys": 4, "mix": {"get": 40, "put": 20, "append": 30, "cas": 10},
                      "timeout": "800ms"},
         "faults": [{"at": "800ms", "crash": "leader"}, {"at": "1800ms", "restart": "crashed"},
                    {"at": "2200ms", "pause": "follower"}, {"at": "3s", "resume": "paused"}]}
        """
        let (_, folder) = try Self.run(scenario, name: "real-crash-pause", conlab: conlab)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (id, row) in try Self.summary(folder) {
            let replay = Self.replay(row, "real-crash-pause")
            #expect(row["linearizable"] == "true", "\(id): \(replay)")
            #expect(row["lost_writes"] == "0", "\(id): \(replay)")
            #expect(row["divergent_keys"] == "0", "\(id): \(replay)")
            #expect(Int(row["ops_ok"]!)! > 0, "\(id): \(replay)")
        }
        let events = try String(contentsOfFile: folder + "/out/events.csv", encoding: .utf8)
        #expect(events.contains(",crash,SIGKILL to pid"), "the crash is a SIGKILL")
        #expect(events.contains(",restart,pid "), "the node restarts on its data directory")
    }

    /// An event trigger: the 2PC coordinator stops itself as it is about to send COMMIT, and the
    /// runner kills it right there, so the decision is logged and never sent; 2PC still never
    /// decides a transaction both ways.
    @Test func aTriggeredCrashHitsTheNodeAtTheEvent() throws {
        guard let conlab = Self.conlab() else { return }
        let scenario = """
        {"version": 1, "name": "real-coordinator-crash", "nodes": 3, "duration": "3s", "quiescence": "1500ms", "backends": ["2pc"],
         "workload": {"clientsPerNode": 2, "mode": "open", "rate": 40, "keys": 4, "mix": {"get": 50, "put": 50}, "timeout": "800ms"},
         "faults": [{"when": {"sent": "COMMIT", "node": "coordinator", "after": "1s"}, "crash": "coordinator"},
                    {"at": "2s", "restart": "crashed"}]}
        """
        let (_, folder) = try Self.run(scenario, name: "real-coordinator-crash", conlab: conlab)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (id, row) in try Self.summary(folder) {
            #expect(row["atomicity_violations"] == "0", "\(id): \(Self.replay(row, "real-coordinator-crash"))")
        }
        let lines = try String(contentsOfFile: folder + "/out/events.csv", encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let fired = try #require(lines.first { $0[3] == "trigger" }, "the trigger fired")
        let crash = try #require(lines.first { $0[3] == "crash" }, "a node was killed")
        #expect(crash[2] == fired[2], "the node at the event is the one killed")
        #expect(Double(fired[1])! >= 1000, "not before the trigger's `after`")
    }

    /// The seeds' 3PC story, shortened, for `backend`: from 1 s n1 fails every `phase` it is
    /// asked, and the first ABORT the coordinator n2 sends after 1 s finds n4 and n5 cut off;
    /// `then` appends further fault steps. From 1 s, n1's links take 20 ms each way (within every
    /// vote and acknowledgement timeout), so n1's refusal reaches n2 some 40 ms after n4 and n5 got
    /// the phase's message (1 ms away) and answered: the ABORT is cut off from two participants that
    /// have moved on, not from a message still on its way to them (a race on real TCP under load).
    static func splitAtTheAbort(_ name: String, backend: String, rejecting phase: String, then: String = "") -> String {
        """
        {"version": 1, "name": "\(name)", "nodes": 5, "duration": "3s", "backends": ["\(backend)"],
         "workload": {"clientsPerNode": 1, "think": {"uniform": ["10ms", "30ms"]}, "keys": 20, "mix": {"get": 50, "put": 20, "append": 30},
                      "timeout": "1s"},
         "network": {"latency": "1ms"},
         "faults": [{"at": "1s", "network": {"latency": "20ms", "nodes": ["n1"]}},
                    {"at": "1s", "reject": {"node": 1, "phase": "\(phase)", "count": "all"}},
                    {"when": {"sent": "ABORT", "node": 2, "after": "1s"}, "partition": [[1, 2, 3], [4, 5]]}\(then)]}
        """
    }

    /// The protocol-level fault `reject`, armed in the node's backend over the admin channel: the
    /// seeds' 3PC story (`Experiments/3pc-partition-precommit.json`, shortened) on real processes.
    /// n1 fails every PreCommit, the coordinator n2 stops itself as its ABORT is about to leave
    /// and the partition cuts n4 and n5 off before it does: they time out pre-committed and
    /// commit, the others abort, and the replicas diverge as in the simulator.
    @Test func aRejectedPreCommitSplitsThreePhaseCommitAsInTheSimulator() throws {
        guard let conlab = Self.conlab() else { return }
        let scenario = Self.splitAtTheAbort("real-3pc-precommit", backend: "3pc", rejecting: "PRECOMMIT")
        let (_, folder) = try Self.run(scenario, name: "real-3pc-precommit", conlab: conlab)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (id, row) in try Self.summary(folder) {
            let replay = Self.replay(row, "real-3pc-precommit")
            #expect(Int(row["divergent_keys"]!)! > 0, "\(id): n4 and n5 commit what the others abort; \(replay)")
            #expect(Int(row["atomicity_violations"]!)! > 0, "\(id): \(replay)")
        }
        let events = try String(contentsOfFile: folder + "/out/events.csv", encoding: .utf8)
        #expect(events.contains(",n1,reject,"), "n1 failed a PreCommit")
        #expect(events.contains(",n2,trigger,"), "the partition fired at n2's ABORT")
    }

    /// The same faults under 2PC, healed at 2.5 s: n4 and n5 voted YES and the partition kept the
    /// ABORT from them, so they wait in doubt until the heal. The nodes report `prepared` over the
    /// admin channel as the simulator sees it, and the run records the wait.
    @Test func aTwoPhaseCommitParticipantCutOffAfterItsVoteWaitsInDoubt() throws {
        guard let conlab = Self.conlab() else { return }
        let scenario = Self.splitAtTheAbort("real-2pc-in-doubt", backend: "2pc", rejecting: "PREPARE", then: #", {"at": "2500ms", "heal": true}"#)
        let (_, folder) = try Self.run(scenario, name: "real-2pc-in-doubt", conlab: conlab)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (id, row) in try Self.summary(folder) {
            #expect(Double(row["in_doubt_max_ms"]!)! >= 1000 && Int(row["in_doubt_txns"]!)! >= 1, "\(id): \(Self.replay(row, "real-2pc-in-doubt"))")
            #expect(row["in_doubt_unresolved"] == "0" && row["atomicity_violations"] == "0", "\(id)")
        }
        let events = try String(contentsOfFile: folder + "/out/events.csv", encoding: .utf8)
        #expect(events.contains(",n4,in-doubt,") && events.contains(",n5,in-doubt,"), "n4 and n5 waited in doubt")
    }

    /// A disk fault between a crash and its restart: a bit of n2's log flips on disk; at its
    /// restart the node meets the damage (it refuses a corrupt record and stays down, or cuts a
    /// torn tail), and the other two keep every acknowledged write.
    @Test func aFlippedBitIsMetAtTheRestart() throws {
        guard let conlab = Self.conlab() else { return }
        let scenario = """
        {"version": 1, "name": "real-disk", "nodes": 3, "duration": "3s", "quiescence": "1500ms", "backends": ["raft"],
         "storage": {"engine": "file"},
         "workload": {"clientsPerNode": 2, "mode": "open", "rate": 40, "keys": 4, "mix": {"get": 50, "put": 50}, "timeout": "800ms"},
         "faults": [{"at": "1s", "disk": {"node": "n2", "fault": "bit-flip"}}, {"at": "1500ms", "crash": "n2"}, {"at": "2s", "restart": "crashed"}]}
        """
        let (_, folder) = try Self.run(scenario, name: "real-disk", conlab: conlab)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (id, row) in try Self.summary(folder) {
            #expect(row["lost_writes"] == "0", "\(id): \(Self.replay(row, "real-disk"))")
            #expect(row["linearizable"] == "true", "\(id): \(Self.replay(row, "real-disk"))")
        }
        let events = try String(contentsOfFile: folder + "/out/events.csv", encoding: .utf8)
        #expect(events.contains(",n2,bit-flip,flipped bit "), "the bit flipped in n2's log")
        #expect(events.contains(",n2,restart-failed,") || events.contains(",n2,restart,"), "n2 met its log again at the restart")
    }

    /// Faults the real driver has no counterpart for are refused before anything runs, naming the
    /// fault kind and why: never silently skipped.
    @Test func unsupportedFaultsAreRefusedByName() throws {
        let cases = [
            (#"{"at": "1s", "disk": {"node": "n1", "fault": "lost-write"}}"#, "fault kind `disk` `lost-write`", #""storage": {"engine": "file"},"#),
            (#"{"at": "1s", "crash": "n1"}"#, "the unsafe disk", #""storage": {"fsync": false},"#),
        ]
        for (fault, named, storage) in cases {
            let folder = NSTemporaryDirectory() + "conlab-jepsen-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let file = folder + "/s.json"
            try Data(#"{"version": 1, "name": "s", "nodes": 3, "duration": "2s", \#(storage) "backends": ["raft"], "faults": [\#(fault)]}"#.utf8)
                .write(to: URL(fileURLWithPath: file))
            let request = ExperimentRequest(scenarioPath: file, outputDirectory: folder + "/out", driver: RealDriver(executable: "/nonexistent"))
            let error = #expect(throws: ScenarioError.self) { try Experiment.run(request) }
            #expect(error?.description.contains(named) == true, "\(error?.description ?? "no error")")
            #expect(error?.description.contains("has no counterpart for it (a process killed by SIGKILL loses nothing") == true)
        }
    }

    /// The admin channel obeys only a connection that proves the cluster secret.
    @Test func theAdminChannelRefusesAConnectionWithoutTheSecret() throws {
        guard let conlab = Self.conlab() else { return }
        let folder = NSTemporaryDirectory() + "conlab-admin-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(#"{"version": 1, "name": "admin", "nodes": 1, "backends": ["unreplicated"]}"#.utf8).write(to: URL(fileURLWithPath: folder + "/admin.json"))
        let scenarios = try ExperimentDefinition.load(path: folder + "/admin.json").scenarios
        let spec = try #require(Runner.plan(experiment: "admin", scenarios: scenarios).first)
        let cluster = try ProcessCluster(executable: conlab, directory: folder + "/cluster", backend: spec.backend, nodes: 1, requestTimeout: .seconds(1), namespaces: nil)
        defer {
            cluster.stopAll(keepingFiles: false)
            try? FileManager.default.removeItem(atPath: folder)
        }
        try cluster.start(0)
        #expect(cluster.admin(0, "cut") == "", "the runner, holding the secret, is obeyed")
        let address = cluster.configuration.members[0].admin!
        #expect(throws: AdminClient.Failure.self, "a wrong secret is refused") {
            try AdminClient(connectingTo: address, secret: Array("not the secret of this cluster".utf8), timeout: .seconds(2))
        }
        #expect(cluster.admin(0, "state") == "{}", "the node still answers its runner")
    }
}
