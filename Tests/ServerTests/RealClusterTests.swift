import ConsensusCore
import Foundation
import Glibc
import Server
import Testing

/// Real `conlab serve` processes on loopback ports: the built executable (`.build/debug/conlab`;
/// skipped, saying so, when it is missing). By default a few seconds: one leader killed with
/// SIGKILL and restarted; `CONLAB_FULL=1` runs five rounds with more keys.
@Suite(.serialized) struct RealClusterTests {
    static let full = ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1"

    static func conlab() -> String? {
        switch LocalCluster.executable() {
        case .success(let path): return path
        case .failure(let reason):
            print("RealClusterTests skipped: \(reason.text)")
            return nil
        }
    }

    @Test func everyAcknowledgedWriteSurvivesKillingTheLeaderAndRestartingIt() throws {
        guard let conlab = Self.conlab() else { return }
        let cluster = try LocalCluster(conlab: conlab, nodes: 3, backend: "{\"protocol\": \"raft\"}")
        var passed = false
        defer { cluster.stopAll(keepingFiles: !passed) }
        for node in 0..<3 { try cluster.start(node) }
        #expect(eventually { (0..<3).allSatisfy(cluster.answersPing) }, "every node answers PING")
        var acknowledged: [String: String] = [:]
        let rounds = Self.full ? 5 : 1, keysPerRound = Self.full ? 300 : 20
        for round in 0..<rounds {
            var leader: Int?
            #expect(eventually { leader = cluster.agreedLeader(); return leader != nil }, "round \(round): the nodes agree on a leader")
            let killed = try #require(leader)
            // Any node takes a write: followers forward it to the leader.
            for index in 0..<keysPerRound {
                let key = "r\(round)-a\(index)", value = "v\(index)"
                if cluster.set(key, value, via: index % 3) { acknowledged[key] = value }
            }
            #expect(cluster.stop(killed, signal: SIGKILL).signalled == SIGKILL)
            var successor: Int?
            #expect(eventually { successor = cluster.agreedLeader(); return successor != nil },
                    "round \(round): the survivors elect a leader after n\(killed + 1) was killed")
            #expect(successor != killed)
            let survivors = (0..<3).filter { $0 != killed }
            for index in 0..<keysPerRound {
                let key = "r\(round)-b\(index)", value = "w\(index)"
                if cluster.set(key, value, via: survivors[index % 2]) { acknowledged[key] = value }
            }
            try cluster.start(killed)
            #expect(eventually { cluster.answersPing(killed) }, "n\(killed + 1) restarts on its data directory")
        }
        #expect(acknowledged.count == 2 * rounds * keysPerRound, "the cluster acknowledged every write it was given time for")
        // Every acknowledged key, read through every node (followers forward reads to the leader).
        for (key, value) in acknowledged.sorted(by: { $0.key < $1.key }) {
            for node in 0..<3 {
                #expect(cluster.get(key, via: node)?.text == value, "\(key) read through n\(node + 1)")
            }
        }
        for node in 0..<3 {
            #expect(cluster.stop(node, signal: SIGTERM).exited == 0, "n\(node + 1) exits 0 after SIGTERM:\n\(cluster.log(node))")
        }
        passed = true
    }

    /// Every backend runs as processes: a write through each node is acknowledged and read back
    /// through the same node (at once where reads are linearizable; once replicated where they
    /// are local, as ZAB's and primary-backup's are by default).
    @Test(arguments: ["unreplicated", "raft", "zab", "2pc", "3pc", "primary-backup"])
    func everyBackendServesThroughEveryNode(backend: String) throws {
        guard let conlab = Self.conlab() else { return }
        let cluster = try LocalCluster(conlab: conlab, nodes: 3, backend: "\"\(backend)\"")
        var passed = false
        defer { cluster.stopAll(keepingFiles: !passed) }
        for node in 0..<3 { try cluster.start(node) }
        #expect(eventually { (0..<3).allSatisfy(cluster.answersPing) })
        for node in 0..<3 {
            #expect(cluster.set("key-\(node)", "\(backend)-\(node)", via: node), "\(backend): a write through n\(node + 1)")
            #expect(eventually(timeout: 5) { cluster.get("key-\(node)", via: node)?.text == "\(backend)-\(node)" })
        }
        passed = true
    }

    /// One node's life on its disk: a malformed command closes only its connection; SIGTERM is a
    /// clean stop; a torn tail is cut and reported; a corrupt record refuses the start, naming the
    /// file and the offset.
    @Test func aNodeRepairsATornTailAndRefusesACorruptLog() throws {
        guard let conlab = Self.conlab() else { return }
        let cluster = try LocalCluster(conlab: conlab, nodes: 1, backend: "\"raft\"")
        var passed = false
        defer { cluster.stopAll(keepingFiles: !passed) }
        try cluster.start(0)
        #expect(eventually { cluster.agreedLeader() == 0 })
        for index in 0..<5 { #expect(cluster.set("k\(index)", "v\(index)", via: 0)) }

        let other = try cluster.client(0)
        let broken = try cluster.client(0)
        #expect(try broken.call("GET", "k1") == .bulk(Array("v1".utf8)))
        #expect(try broken.call("SET", "k1").isError, "a wrong number of arguments is an error the connection survives")
        try broken.send(bytes: Array("*1\r\n$x\r\n".utf8))
        let protocolError = try broken.receive()
        #expect(protocolError.isError && (try? broken.receive()) == nil, "a protocol error is answered, then the connection closes")
        #expect(try other.call("GET", "k2") == .bulk(Array("v2".utf8)), "other connections carry on")

        #expect(cluster.stop(0, signal: SIGTERM).exited == 0)
        let segment = try Self.onlySegment(cluster.dataDirectory(0))
        let intact = try Data(contentsOf: URL(fileURLWithPath: segment))
        try (intact + Data([0x5A, 0x00, 0x13])).write(to: URL(fileURLWithPath: segment))
        try cluster.start(0)
        #expect(eventually { cluster.agreedLeader() == 0 })
        #expect(cluster.log(0).contains("repaired a torn tail: cut 3 bytes from \(segment)"))
        for index in 0..<5 { #expect(cluster.get("k\(index)", via: 0)?.text == "v\(index)") }
        #expect(cluster.stop(0, signal: SIGTERM).exited == 0)

        var damaged = try Data(contentsOf: URL(fileURLWithPath: segment))
        damaged[damaged.count / 3] ^= 0xFF
        try damaged.write(to: URL(fileURLWithPath: segment))
        try cluster.start(0)
        #expect(cluster.waitForExit(0) == 1, "a corrupt record refuses the start")
        #expect(cluster.log(0).contains("refusing to start: corrupt log record in \(segment) at offset"), "\(cluster.log(0))")
        passed = true
    }

    /// A follower killed and its log cut in the middle of its last record (a write the kill tore):
    /// it repairs the tail, restarts, catches up from the leader, and serves every acknowledged
    /// key. What it lost was its own unacknowledged suffix, or entries a majority still holds.
    @Test func aFollowerWithATruncatedLogCatchesUp() throws {
        guard let conlab = Self.conlab() else { return }
        let cluster = try LocalCluster(conlab: conlab, nodes: 3, backend: "\"raft\"")
        var passed = false
        defer { cluster.stopAll(keepingFiles: !passed) }
        let leader = try #require(try cluster.startAllAndAwaitLeader(), "the nodes agree on a leader")
        let follower = (leader + 1) % 3
        for index in 0..<20 { #expect(cluster.set("k\(index)", "v\(index)", via: index % 3)) }
        #expect(cluster.stop(follower, signal: SIGKILL).signalled == SIGKILL)
        let segment = try Self.onlySegment(cluster.dataDirectory(follower))
        let intact = try Data(contentsOf: URL(fileURLWithPath: segment))
        try intact.prefix(intact.count - 5).write(to: URL(fileURLWithPath: segment))
        for index in 20..<30 { #expect(cluster.set("k\(index)", "v\(index)", via: leader)) }
        try cluster.start(follower)
        #expect(eventually { cluster.answersPing(follower) })
        #expect(cluster.log(follower).contains("repaired a torn tail: cut"), "\(cluster.log(follower))")
        let committed = Int(cluster.info(leader)?["commit_index"] ?? "") ?? .max
        #expect(eventually { Int(cluster.info(follower)?["commit_index"] ?? "") ?? 0 >= committed },
                "the follower's own log catches up with the leader's commit index \(committed): \(cluster.info(follower) ?? [:]) \(cluster.directory)")
        for index in 0..<30 { #expect(cluster.get("k\(index)", via: follower)?.text == "v\(index)", "k\(index) through the follower") }
        passed = true
    }

    /// `--disk memory` (for measuring the loop alone) serves, writes no log file, and keeps
    /// nothing across a restart, as its help says.
    @Test func aMemoryDiskServesAndKeepsNothing() throws {
        guard let conlab = Self.conlab() else { return }
        let cluster = try LocalCluster(conlab: conlab, nodes: 1, backend: "\"raft\"")
        var passed = false
        defer { cluster.stopAll(keepingFiles: !passed) }
        try cluster.start(0, ["--disk", "memory"])
        #expect(eventually { cluster.agreedLeader() == 0 })
        #expect(cluster.set("k", "v", via: 0) && cluster.get("k", via: 0)?.text == "v")
        #expect(Int(cluster.info(0)?["steps"] ?? "") ?? 0 > 0, "INFO counts the loop's steps")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: cluster.dataDirectory(0) + "/log")) ?? []
        #expect(files.isEmpty, "no log on disk: \(files)")
        #expect(cluster.stop(0, signal: SIGTERM).exited == 0)
        try cluster.start(0, ["--disk", "memory"])
        #expect(eventually { cluster.agreedLeader() == 0 })
        #expect(cluster.get("k", via: 0) == .bulk(nil))
        passed = true
    }

    /// `--parent`: a node whose starter is killed (SIGKILL: no cleanup runs, as when a test
    /// process traps) notices that it was orphaned and stops by itself.
    @Test func aNodeDoesNotOutliveTheProcessThatStartedIt() throws {
        guard let conlab = Self.conlab() else { return }
        let cluster = try LocalCluster(conlab: conlab, nodes: 1, backend: "\"unreplicated\"")
        var passed = false
        defer { cluster.stopAll(keepingFiles: !passed) }
        // A shell starts the node naming itself as the parent, writes the node's pid and waits.
        let pidFile = cluster.directory + "/node.pid"
        let script = "\"$0\" \"$@\" --parent $$ & echo $! > \(pidFile); wait"
        let starter = try NodeProcesses.spawn("/bin/sh", ["-c", script, conlab] + cluster.arguments(0), logFile: cluster.logFile(0))
        var node: pid_t?
        defer { if let node, NodeProcesses.isAlive(node) { kill(node, SIGKILL) } }
        #expect(eventually { node = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            return node != nil && cluster.answersPing(0) })
        let orphan = try #require(node)
        kill(starter, SIGKILL)
        _ = LocalCluster.reap(starter)
        #expect(eventually(timeout: 5) { !NodeProcesses.isAlive(orphan) }, "the orphaned node stopped")
        #expect(cluster.log(0).contains("the process that started this node (pid \(starter)) is gone: stopping"))
        passed = true
    }

    static func onlySegment(_ dataDirectory: String) throws -> String {
        let folder = dataDirectory + "/log"
        let segments = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("wal-") }
        try #require(segments.count == 1)
        return folder + "/" + segments[0]
    }
}

extension RESPClient.Reply {
    var isError: Bool {
        if case .error = self { return true }
        return false
    }
}
