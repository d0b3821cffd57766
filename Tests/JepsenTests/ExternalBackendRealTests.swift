import ConsensusCore
import Foundation
@testable import Jepsen
import Lab
import Server
import Testing

/// External systems run as backends of a scenario (`{"external": "etcd"}`,
/// `{"external": "redis-sentinel"}`) by the real driver: the lab starts a 3-member etcd and a
/// Redis trio with a Sentinel per node, runs a short scenario against each and checks it. Without
/// the Debian packages the tests say loudly that they were skipped and how to install them.
@Suite(.serialized) struct ExternalBackendRealTests {
    /// Whether every binary `system` needs is on PATH; says loudly what to install if not.
    static func installed(_ system: ExternalSystem) -> Bool {
        let binaries = system == .etcd ? ["etcd"] : ["redis-server", "redis-sentinel"]
        for (binary, package) in zip(binaries, system.debianPackages) where (try? ExternalCluster.executable(binary, package: package)) == nil {
            print("*** SKIPPED \(system.rawValue) tests: \(binary) is not installed; install with: apt-get install -y \(system.debianPackages.joined(separator: " ")) ***")
            return false
        }
        return true
    }

    static func scenario(_ backend: String, options: String = "{}", faults: String, duration: String = "3s") -> String {
        """
        {"version": 1, "name": "external", "nodes": 3, "duration": "\(duration)", "quiescence": "1500ms",
         "backends": [{"external": "\(backend)", "options": \(options)}],
         "workload": {"clientsPerNode": 2, "mode": "closed", "think": "10ms", "keys": 4, "mix": {"get": 40, "put": 20, "append": 30, "cas": 10},
                      "timeout": "800ms"},
         "faults": \(faults)}
        """
    }

    /// etcd on our Raft's timing (the options become its flags): it starts, elects a new leader
    /// after its leader's crash, and serves.
    @Test func etcdRunsOnOurRaftsTiming() throws {
        guard Self.installed(.etcd) else { return }
        let options = #"{"heartbeat": "30ms", "electionTimeout": "150ms", "prevote": true}"#
        let faults = #"[{"at": "500ms", "crash": "leader"}]"#
        let (_, folder) = try RealScenarioTests.run(Self.scenario("etcd", options: options, faults: faults, duration: "2s"),
                                                    name: "external-etcd-timing", conlab: "/nonexistent")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let row = try #require(try RealScenarioTests.summary(folder).values.first)
        #expect(row["variant"] == "heartbeat=30ms;electionTimeout=150ms;prevote=true")
        #expect(row["linearizable"] == "true" && row["lost_writes"] == "0")
        #expect(Int(row["elections"] ?? "") == 1, "one election after the crash")
        let elected = try #require(Double(row["election_ms_max"] ?? ""), "an election time is measured")
        #expect(elected < 1_000, "an election on a 150–300 ms timeout, not etcd's default 1–2 s: \(elected) ms")
    }

    /// etcd keeps Raft's promises through a SIGKILL of its leader and the restart, then the new
    /// leader's isolation by the peer proxy: linearizable, no acknowledged write lost, the
    /// members' own copies equal at the end, and a leader elected in the majority while the old
    /// one is cut off.
    @Test func etcdKeepsItsPromisesThroughALeaderCrashAndIsolation() throws {
        guard Self.installed(.etcd) else { return }
        // An election takes 1–2 s (etcd's election timeout, randomised): the isolation waits for
        // the crash's, and lasts long enough for the next.
        let faults = #"[{"at": "300ms", "crash": "leader"}, {"at": "800ms", "restart": "crashed"}, {"at": "2s", "partition": {"isolate": "leader"}}, {"at": "4500ms", "heal": true}]"#
        let (_, folder) = try RealScenarioTests.run(Self.scenario("etcd", faults: faults, duration: "5s"), name: "external-etcd", conlab: "/nonexistent")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let rows = try RealScenarioTests.summary(folder)
        #expect(rows.count == 1)
        for (id, row) in rows {
            let replay = "replay: conlab run external-etcd.json --real --seed \(row["seed"]!)"
            #expect(row["protocol"] == "etcd" && row["driver"] == "real", "\(id)")
            #expect(Int(row["ops_ok"]!)! > 0, "\(id): \(replay)")
            #expect(row["linearizable"] == "true", "\(id): \(replay)")
            #expect(row["lost_writes"] == "0", "\(id): \(replay)")
            #expect(row["divergent_keys"] == "0", "\(id): \(replay)")
        }
        let events = try String(contentsOfFile: folder + "/out/events.csv", encoding: .utf8)
        #expect(events.range(of: #",leader,n\d term=[1-9]"#, options: .regularExpression) != nil, "the members' status names a leader with etcd's Raft term")
        #expect(events.contains(",fault,crash leader → n"), "the crash found the leader")
        #expect(events.contains(",crash,SIGKILL to pid") && events.contains(",restart,pid "))
        let partition = try #require(events.range(of: ",fault,\"partition isolate(leader)"), "the proxy's partition is recorded")
        let heal = try #require(events.range(of: ",fault,heal"))
        #expect(events[partition.upperBound..<heal.lowerBound].contains(",,leader,n"), "a new leader is elected while the old one is cut off")
    }

    /// Redis with Sentinel through a short pause of its primary and then the primary's isolation
    /// by the proxy: the run completes and is judged. What Redis loses depends on timing, so only
    /// what is certain is asserted: both faults hit the primary (n1: the pause is shorter than
    /// Sentinel's `down-after`), the Sentinels of the majority promote another node while n1 is
    /// cut off, clients were served, and the checker gave its verdicts.
    @Test func redisWithSentinelIsRunAndJudgedThroughAPauseAndAnIsolation() throws {
        guard Self.installed(.redisSentinel) else { return }
        let faults = #"[{"at": "300ms", "pause": "leader"}, {"at": "800ms", "resume": "paused"}, {"at": "1200ms", "partition": {"isolate": "leader"}}, {"at": "5s", "heal": true}]"#
        let (result, folder) = try RealScenarioTests.run(Self.scenario("redis-sentinel", faults: faults, duration: "5500ms"), name: "external-redis", conlab: "/nonexistent")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let rows = try RealScenarioTests.summary(folder)
        let row = try #require(rows.values.first)
        #expect(row["protocol"] == "redis-sentinel" && row["driver"] == "real")
        #expect(Int(row["ops_ok"]!)! > 0)
        #expect(["true", "false", ""].contains(row["linearizable"]!), "a verdict or undecided")
        #expect(Int(row["lost_writes"]!) != nil && Int(row["divergent_keys"]!) != nil)
        #expect(result.records.count == 1)
        let events = try String(contentsOfFile: folder + "/out/events.csv", encoding: .utf8)
        #expect(events.contains(",fault,pause leader → n1"), "the pause found the primary in ROLE and Sentinel's view")
        let partition = try #require(events.range(of: ",fault,\"partition isolate(leader) (n1 | n2,n3)\""), "the proxy's partition cut n1 off")
        let heal = try #require(events.range(of: ",fault,heal"))
        let during = events[partition.upperBound..<heal.lowerBound]
        #expect(during.contains(",n2,role,master") || during.contains(",n3,role,master"), "the majority's Sentinels promote a replica")
    }

    /// Faults that need our nodes' admin channel are refused for an external backend, by name,
    /// before anything starts: those the proxy in front of its links cannot carry out.
    @Test func faultsOnlyOurNodesCanTakeAreRefusedByName() throws {
        let folder = NSTemporaryDirectory() + "conlab-external-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let etcdTakes = "external backend etcd takes only crash, restart, pause, resume, partition, one-way, heal and network latency"
        let redisTakes = "external backend redis-sentinel takes only crash, restart, pause, resume, partition, one-way, heal and network latency"
        for (system, fault, named, takes) in [("redis-sentinel", #"{"at": "1s", "clock": {"node": "leader", "rate": 0.5}}"#, "fault `clock", redisTakes),
                                              ("etcd", #"{"at": "1s", "slow": {"node": "n1", "factor": 5}}"#, "fault `slow", etcdTakes),
                                              ("etcd", #"{"at": "1s", "drop": {"kinds": ["REQUEST_VOTE"], "from": 1, "to": 2}}"#, "fault `drop", etcdTakes),
                                              ("etcd", #"{"at": "1s", "network": {"loss": 0.1}}"#, "fault `network", etcdTakes),
                                              ("etcd", #"{"when": {"role": "leader", "after": "1s"}, "crash": "leader"}"#, "an event trigger", etcdTakes)] {
            let file = folder + "/s.json"
            try Data(#"{"version": 1, "name": "s", "nodes": 3, "duration": "2s", "backends": ["raft", {"external": "\#(system)"}], "faults": [\#(fault)]}"#.utf8)
                .write(to: URL(fileURLWithPath: file))
            let request = ExperimentRequest(scenarioPath: file, outputDirectory: folder + "/out", driver: RealDriver(executable: "/nonexistent"))
            let error = #expect(throws: ScenarioError.self) { try Experiment.run(request) }
            #expect(error?.description.contains(named) == true, "\(error?.description ?? "no error")")
            #expect(error?.description.contains(takes) == true, "\(error?.description ?? "no error")")
        }
    }

    /// Ctrl-C of `conlab run --real`: etcd does not watch its parent as our nodes do, so conlab
    /// itself must stop it. Interrupted while the members run, conlab kills every one and exits
    /// with 130 (128 + SIGINT).
    @Test func anInterruptedRunStopsTheSystemItStarted() throws {
        guard Self.installed(.etcd), let conlab = RealScenarioTests.conlab() else { return }
        let folder = NSTemporaryDirectory() + "conlab-interrupt-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data(Self.scenario("etcd", faults: "[]", duration: "30s").utf8).write(to: URL(fileURLWithPath: folder + "/s.json"))
        let run = try NodeProcesses.spawn(conlab, ["run", folder + "/s.json", "--real", "--seed", "1", "--out", folder + "/out", "--quiet"],
                                          logFile: folder + "/conlab.log")
        var members: [pid_t] = []
        defer { for pid in members + [run] { kill(pid, SIGKILL) }; waitpid(run, nil, WNOHANG) }
        let deadline = Date().addingTimeInterval(30)
        while members.count < 3 && Date() < deadline {
            usleep(100_000)
            members = Self.children(of: run).filter { NodeProcesses.arguments(of: $0).first?.hasSuffix("etcd") == true }
        }
        #expect(members.count == 3, "three etcd members running under conlab")
        kill(run, SIGINT)
        var status: Int32 = 0
        waitpid(run, &status, 0)
        #expect(status >> 8 == 130, "exit status 128 + SIGINT, not \(status >> 8)")
        #expect(members.allSatisfy { !NodeProcesses.isAlive($0) }, "every member stopped")
        let log = (try? String(contentsOfFile: folder + "/conlab.log", encoding: .utf8)) ?? ""
        #expect(log.contains("interrupted; stopped"), "it says what it stopped: \(log)")
    }

    /// The processes whose parent is `pid`.
    static func children(of pid: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { pid_t($0) }.filter { NodeProcesses.status(of: $0)?.parent == pid }
    }

    /// In network namespaces an external system has no proxy to delay its links (and this kernel
    /// no netem): link latency is refused for it by name, before anything starts; the default
    /// network, and the same latency for our own backend alone, are not.
    @Test func linkLatencyIsRefusedForAnExternalSystemInNamespaces() throws {
        let folder = NSTemporaryDirectory() + "conlab-external-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let driver = RealDriver(executable: "/nonexistent", network: .namespaces)
        func scenario(_ backends: String, _ extra: String) throws -> Scenario {
            let file = folder + "/s.json"
            try Data(#"{"version": 1, "name": "s", "nodes": 3, "duration": "2s", "backends": \#(backends)\#(extra)}"#.utf8).write(to: URL(fileURLWithPath: file))
            return try #require(try ExperimentDefinition.load(path: file).scenarios.first)
        }
        let both = #"["raft", {"external": "etcd"}]"#
        for (extra, named) in [(#", "network": {"latency": "40ms"}"#, "network.latency"),
                               (#", "faults": [{"at": "1s", "network": {"latency": "5ms"}}]"#, "faults[0]")] {
            let error = #expect(throws: ScenarioError.self) { try driver.validate(try scenario(both, extra)) }
            #expect(error?.description.contains(named) == true && error?.description.contains("--network netns") == true, "\(error?.description ?? "no error")")
            #expect(throws: Never.self, "our own nodes draw latency in their transport") { try driver.validate(try scenario(#"["raft"]"#, extra)) }
        }
        #expect(throws: Never.self, "the default network is the veth pairs' own") { try driver.validate(try scenario(both, "")) }
    }

    /// The peer proxy learns which node opened a connection from its first bytes, and never
    /// guesses: etcd names the sender's advertised peer URLs in a request's head; a Redis replica
    /// its announced port after its `PING`, a Sentinel its id, our clients their node.
    @Test func theProxyNamesTheSenderFromItsPeerURLs() {
        let head = "POST /raft HTTP/1.1\r\nHost: 127.0.0.1:7102\r\nX-Peerurls: http://127.0.0.1:7202\r\nX-Server-From: 8e9e05c52164694d\r\n"
        #expect(EtcdMembers.sender(head: Array(head.utf8), proxy: [7201, 7202, 7203]) == .node(1))
        #expect(EtcdMembers.sender(head: Array("POST /raft HTTP/1.1\r\nX-Peerurls: http://127.0.0.1:72".utf8), proxy: [7201, 7202, 7203]) == .undecided,
                "the line is not whole yet")
        let probe = "GET /version HTTP/1.1\r\nHost: 127.0.0.1:7102\r\n\r\n"
        #expect(EtcdMembers.sender(head: Array(probe.utf8), proxy: [7201, 7202]) == .undecided, "a probe names nobody, yet")
        #expect(EtcdMembers.sender(head: Array((probe + head).utf8), proxy: [7201, 7202]) == .node(1), "a raft request on the kept-alive connection does")
        #expect(EtcdMembers.sender(head: Array("POST /raft HTTP/1.1\r\nX-PeerURLs: http://127.0.0.1:9999\r\n\r\n".utf8), proxy: [7201]) == .anonymous)
        func resp(_ words: [String]) -> String { "*\(words.count)\r\n" + words.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined() }
        let ports: [UInt16] = [7301, 7302, 7303]
        #expect(RedisSentinelGroup.sender(head: Array(resp(["PING"]).utf8), serverPorts: ports) == .undecided, "a replica's PING names nobody yet")
        #expect(RedisSentinelGroup.sender(head: Array((resp(["PING"]) + resp(["REPLCONF", "listening-port", "7303"])).utf8), serverPorts: ports) == .node(2))
        let sentinel = "sentinel-" + RedisSentinelGroup.sentinelID(1).prefix(8) + "-cmd"
        #expect(RedisSentinelGroup.sentinelID(1).count == 40)
        #expect(RedisSentinelGroup.sender(head: Array(resp(["CLIENT", "SETNAME", sentinel]).utf8), serverPorts: ports) == .node(1))
        #expect(RedisSentinelGroup.sender(head: Array(resp(["CLIENT", "SETNAME", "conlab-n3"]).utf8), serverPorts: ports) == .node(2))
        #expect(RedisSentinelGroup.sender(head: Array(resp(["CLIENT", "SETNAME", "someone"]).utf8), serverPorts: ports) == .anonymous)
    }

    /// A missing binary is an error that names the Debian package to install.
    @Test func aMissingBinaryNamesItsPackage() {
        let error = #expect(throws: ProcessCluster.Failure.self) { try ExternalCluster.executable("conlab-no-such-binary", package: "some-package") }
        #expect(error?.description.contains("apt-get install -y some-package") == true, "\(error?.description ?? "no error")")
    }
}
