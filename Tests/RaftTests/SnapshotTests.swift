import ConsensusCore
import Raft
import Simulator
import Testing

/// MIT 6.824 lab 2D (log compaction), ported: snapshots every ~10 entries (the lab's interval),
/// InstallSnapshot for followers behind the leader's first index, restarts from a snapshot.
@Suite struct SnapshotTests {
    static var options: RaftOptions {
        var options = RaftOptions()
        options.snapshotThreshold = 10
        return options
    }

    enum Absence: String, CaseIterable, Sendable { case disconnect, crash }

    /// TestSnapshotBasic2D: every server snapshots and compacts while agreement continues.
    @Test func snapshotBasic() {
        let cluster = RaftHarness(nodes: 3, seed: 31, options: Self.options)
        for i in 0..<Scale.count(40, full: 200) { cluster.one("b\(i)", expected: 3) }
        for node in cluster.nodes {
            let log = cluster.raft(node)!.log
            #expect(log.snapshotIndex > 0, "\(node) never snapshotted")
            #expect(log.entries.count <= 2 * 15 + 1, "\(node) keeps \(log.entries.count) entries despite snapshots")
        }
        cluster.checkInvariants()
    }

    /// TestSnapshotInstall2D, …Unreliable2D, …Crash2D, …UnCrash2D: a follower that misses more
    /// than the leader keeps in its log is brought up to date by InstallSnapshot.
    @Test(arguments: [(Absence.disconnect, false), (.disconnect, true), (.crash, false), (.crash, true)])
    func snapshotInstall(absence: Absence, unreliable: Bool) {
        let network = unreliable ? LinkProfile(latency: .uniform(.zero...(.milliseconds(26))), loss: 0.1) : LinkProfile()
        let cluster = RaftHarness(nodes: 3, seed: 32, options: Self.options, network: network)
        cluster.one("start", expected: 3)
        for round in 0..<Scale.count(3, full: 10) {
            let leader = cluster.checkOneLeader()!
            let victim = cluster.nodes.first { $0 != leader }!
            switch absence {
            case .disconnect: cluster.disconnect(victim)
            case .crash: cluster.crash(victim)
            }
            for i in 0..<25 { cluster.one("r\(round)-\(i)", expected: 2) }
            switch absence {
            case .disconnect: cluster.connect(victim)
            case .crash: cluster.restart(victim)
            }
            let index = cluster.one("back\(round)", expected: 3)
            #expect(index.map { cluster.raft(victim)!.lastApplied >= $0 } == true, "\(victim) did not catch up")
        }
        let installs = cluster.sim.events.filter { $0.event.kind == "snapshot-installed" }
        #expect(!installs.isEmpty, "no follower needed InstallSnapshot")
        cluster.checkInvariants()
    }

    /// TestSnapshotAllCrash2D: everyone crashes and restarts from snapshot and log; the log index
    /// never goes back.
    @Test func snapshotAllCrash() {
        let cluster = RaftHarness(nodes: 3, seed: 33, options: Self.options)
        cluster.one("start", expected: 3)
        var last = 0
        for round in 0..<Scale.count(3, full: 5) {
            for i in 0..<12 { last = cluster.one("a\(round)-\(i)", expected: 3) ?? last }
            for node in cluster.nodes { cluster.crash(node) }
            for node in cluster.nodes { cluster.restart(node) }
            for node in cluster.nodes {
                #expect(cluster.raft(node)!.log.lastIndex >= last, "\(node) restarted behind index \(last)")
                #expect(cluster.raft(node)!.log.snapshotIndex > 0, "\(node) restarted without its snapshot")
            }
            let index = cluster.one("after\(round)", expected: 3) ?? 0
            #expect(index > last, "index went back from \(last) to \(index)")
            last = index
        }
        cluster.checkInvariants()
    }

    /// TestSnapshotInit2D: restarting from a snapshot twice in a row works.
    @Test func snapshotInit() {
        let cluster = RaftHarness(nodes: 3, seed: 34, options: Self.options)
        for i in 0..<15 { cluster.one("i\(i)", expected: 3) }
        for _ in 0..<2 {
            for node in cluster.nodes { cluster.crash(node) }
            for node in cluster.nodes { cluster.restart(node) }
            cluster.one("again", expected: 3)
        }
        let restarts = cluster.sim.events.filter { $0.event.kind == "restart" }
        #expect(restarts.allSatisfy { if case .restart(_, snapshotIndex: _?) = $0.event { true } else { false } },
                "a restart did not recover a snapshot: \(restarts.map(\.event.detail))")
        cluster.checkInvariants()
    }
}
