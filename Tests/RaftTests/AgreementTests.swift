import ConsensusCore
import Raft
import Simulator
import Testing

/// MIT 6.824 lab 2B (log agreement), ported. Where 6.824 expects the first command at index 1,
/// this Raft has the new leader's no-op there (§8), so indices are checked relative to it.
@Suite struct AgreementTests {
    /// TestBasicAgree2B: commands land at consecutive indices, none committed before it is submitted.
    @Test func basicAgreement() {
        let cluster = RaftHarness(nodes: 3, seed: 11)
        let leader = cluster.checkOneLeader()!
        let noop = cluster.raft(leader)!.log.lastIndex
        for i in 1...3 {
            #expect(cluster.nCommitted(noop + i) == 0, "some have committed index \(noop + i) before it was submitted")
            let index = cluster.one("v\(i)", expected: 3, retry: false)
            #expect(index == noop + i, "got index \(index ?? -1), expected \(noop + i)")
        }
        cluster.checkInvariants()
    }

    /// TestRPCBytes2B: each command crosses each link about once — total bytes between servers stay
    /// within servers × payload + 50,000 for ten 5,000-byte commands.
    @Test func rpcBytes() {
        let cluster = RaftHarness(nodes: 3, seed: 12)
        cluster.checkOneLeader()
        cluster.one("warm-up", expected: 3)
        let before = cluster.sim.counters.bytesSent
        var payload = 0
        for i in 0..<10 {
            let value = String(repeating: Character(UnicodeScalar(UInt8(97 + i))), count: 5_000)
            payload += value.utf8.count
            cluster.one(value, expected: 3, retry: false)
        }
        let sent = cluster.sim.counters.bytesSent - before
        #expect(sent <= 3 * payload + 50_000, "too many bytes sent: \(sent) for \(payload) bytes of commands")
        cluster.checkInvariants()
    }

    /// TestFollowerFailure2B: agreement with one follower gone; none with both gone.
    @Test func followerFailure() {
        let cluster = RaftHarness(nodes: 3, seed: 13)
        cluster.one("101", expected: 3)
        let leader1 = cluster.checkOneLeader()!
        cluster.disconnect(cluster.nodes.first { $0 != leader1 }!)
        cluster.one("102", expected: 2)
        cluster.run(.milliseconds(300))
        cluster.one("103", expected: 2)
        let leader2 = cluster.checkOneLeader()!
        for node in cluster.nodes where node != leader2 { cluster.disconnect(node) }
        let operation = cluster.submit("104", via: leader2)
        cluster.run(.milliseconds(600))
        #expect(cluster.sim.history[operation].complete == nil, "a command was acknowledged without a majority")
        #expect(!cluster.invariants.decided.contains { $0?.request?.command == .put(key: "k", value: "104") }, "104 committed without a majority")
        cluster.checkInvariants()
    }

    /// TestFailAgree2B: a disconnected follower catches up when it rejoins.
    @Test func agreementDespiteDisconnectedFollower() {
        let cluster = RaftHarness(nodes: 3, seed: 14)
        cluster.one("101", expected: 3)
        let leader = cluster.checkOneLeader()!
        let follower = cluster.nodes.first { $0 != leader }!
        cluster.disconnect(follower)
        for value in 102...105 { cluster.one("\(value)", expected: 2) }
        cluster.run(.milliseconds(600))
        cluster.connect(follower)
        cluster.one("106", expected: 3)
        cluster.run(.milliseconds(600))
        let last = cluster.one("107", expected: 3)
        #expect(last.map { cluster.raft(follower)!.lastApplied >= $0 } == true, "the rejoined follower did not catch up")
        cluster.checkInvariants()
    }

    /// TestFailNoAgree2B: 5 servers, 3 followers cut off: the leader's new entry does not commit;
    /// after reconnecting, the next command lands just after the committed prefix (the lost entry
    /// either kept or overwritten).
    @Test func noAgreementWithoutMajority() {
        let cluster = RaftHarness(nodes: 5, seed: 15)
        let committed = cluster.one("10", expected: 5)!
        let leader = cluster.checkOneLeader()!
        let followers = cluster.nodes.filter { $0 != leader }
        for node in followers.prefix(3) { cluster.disconnect(node) }
        let operation = cluster.submit("20", via: leader)
        cluster.run(.milliseconds(50))
        let index = cluster.raft(leader)!.log.lastIndex
        #expect(index == committed + 1, "expected index \(committed + 1), got \(index)")
        cluster.run(.milliseconds(600))
        #expect(cluster.nCommitted(index) == 0, "\(cluster.nCommitted(index)) committed but no majority")
        #expect(cluster.sim.history[operation].complete == nil)
        for node in followers.prefix(3) { cluster.connect(node) }
        let leader2 = cluster.checkOneLeader()!
        let operation2 = cluster.submit("30", via: leader2)
        #expect(cluster.waitFor(operation2) == .ok(.done))
        let index2 = cluster.invariants.indexOfClient[cluster.sim.history[operation2].client] ?? -1
        // A new leader's no-op comes first; "20" may survive (it reached the old leader's log only).
        #expect((committed + 2...committed + 3).contains(index2), "unexpected index \(index2)")
        cluster.one("1000", expected: 5)
        cluster.checkInvariants()
    }

    /// TestConcurrentStarts2B: concurrent commands all commit, at distinct indices, in one term.
    @Test func concurrentProposals() {
        let cluster = RaftHarness(nodes: 3, seed: 16)
        let leader = cluster.checkOneLeader()!
        let term = cluster.raft(leader)!.currentTerm
        let operations = (0..<5).map { cluster.sim.submit(.put(key: "k", value: "c\($0)"), via: leader) }
        for operation in operations { #expect(cluster.waitFor(operation) == .ok(.done)) }
        let indices = operations.compactMap { cluster.invariants.indexOfClient[cluster.sim.history[$0].client] }
        #expect(Set(indices).count == 5, "indices \(indices) are not distinct")
        #expect(cluster.raft(leader)!.currentTerm == term, "term changed during concurrent starts")
        cluster.checkInvariants()
    }

    /// TestRejoin2B: a partitioned leader's uncommitted entries are overwritten when it rejoins.
    /// (Its clients retry elsewhere, so their commands may commit later — as new entries.)
    @Test func rejoinOfPartitionedLeader() {
        let cluster = RaftHarness(nodes: 3, seed: 17)
        cluster.one("101", expected: 3)
        let leader1 = cluster.checkOneLeader()!
        let oldTerm = cluster.raft(leader1)!.currentTerm
        let firstStale = cluster.raft(leader1)!.log.lastIndex + 1
        cluster.disconnect(leader1)
        for value in ["102", "103", "104"] { _ = cluster.sim.submit(.put(key: "k", value: value), via: leader1) }
        cluster.run(.milliseconds(20))
        let lastStale = cluster.raft(leader1)!.log.lastIndex
        #expect(lastStale == firstStale + 2, "the old leader should hold 3 uncommitted entries")
        cluster.one("103", expected: 2)
        let leader2 = cluster.checkOneLeader()!
        cluster.disconnect(leader2)
        cluster.connect(leader1)
        cluster.one("104", expected: 2)
        cluster.connect(leader2)
        cluster.one("105", expected: 3)
        for index in firstStale...lastStale {
            let entry = cluster.invariants.decided.indices.contains(index) ? cluster.invariants.decided[index] : nil
            #expect(entry != nil && entry!.term != oldTerm, "index \(index) still holds the old leader's uncommitted entry")
        }
        cluster.checkInvariants()
    }

    /// TestBackup2B: after long divergent logs (50 uncommitted entries on each side), the leader
    /// repairs followers quickly: conflict hints skip whole terms instead of one entry per round trip.
    @Test func fastBackupOverDivergentLogs() {
        let cluster = RaftHarness(nodes: 5, seed: 18)
        cluster.one("start", expected: 5)
        let leader1 = cluster.checkOneLeader()!
        let others = cluster.nodes.filter { $0 != leader1 }
        // Leader and one follower alone: 50 entries that cannot commit.
        for node in others.dropFirst() { cluster.disconnect(node) }
        for i in 0..<50 { _ = cluster.sim.submit(.put(key: "k", value: "lost-a\(i)"), via: leader1) }
        cluster.run(.milliseconds(500))
        cluster.disconnect(leader1)
        cluster.disconnect(others[0])
        // The other three elect a leader and commit 50 entries.
        for node in others.dropFirst() { cluster.connect(node) }
        for i in 0..<50 { cluster.one("b\(i)", expected: 3) }
        let leader2 = cluster.checkOneLeader()!
        let other = others.dropFirst().first { $0 != leader2 }!
        cluster.disconnect(other)
        for i in 0..<50 { _ = cluster.sim.submit(.put(key: "k", value: "lost-c\(i)"), via: leader2) }
        cluster.run(.milliseconds(500))
        // The first pair and `other` reconnect: their logs diverge from each other by 50+ entries.
        for node in cluster.nodes { cluster.disconnect(node) }
        cluster.connect(leader1)
        cluster.connect(others[0])
        cluster.connect(other)
        let repairStart = cluster.sim.now
        let rejectionsBefore = cluster.sim.counters.messagesSent
        for i in 0..<50 { cluster.one("d\(i)", expected: 3) }
        for node in cluster.nodes { cluster.connect(node) }
        cluster.one("end", expected: 5)
        let repairTime = cluster.sim.now - repairStart
        #expect(repairTime < .seconds(10), "repair took \(repairTime)")
        #expect(cluster.sim.counters.messagesSent - rejectionsBefore < 2_000, "repair needed \(cluster.sim.counters.messagesSent - rejectionsBefore) messages")
        cluster.checkInvariants()
    }

    /// TestCount2B: ≤ 30 RPCs to elect; ≤ 42 for 11 concurrent commands on 3 servers; ≤ 60 per
    /// idle second. An RPC is a request and its reply, so messages count half.
    @Test func rpcCounts() {
        let cluster = RaftHarness(nodes: 3, seed: 19)
        let leader = cluster.checkOneLeader()!
        let election = cluster.sim.counters.messagesSent / 2
        #expect((1...30).contains(election), "too many or too few RPCs (\(election)) to elect the initial leader")
        let before = cluster.sim.counters.messagesSent
        let operations = (0..<11).map { cluster.sim.submit(.put(key: "k", value: "n\($0)"), via: leader) }
        for operation in operations { #expect(cluster.waitFor(operation) == .ok(.done)) }
        let last = operations.compactMap { cluster.invariants.indexOfClient[cluster.sim.history[$0].client] }.max()!
        while cluster.nCommitted(last) < 3 { cluster.run(.milliseconds(5)) }
        let agreement = (cluster.sim.counters.messagesSent - before) / 2
        #expect(agreement <= (11 + 3) * 3, "too many RPCs (\(agreement)) for 11 entries")
        let idleStart = cluster.sim.counters.messagesSent
        cluster.run(.seconds(1))
        let idle = (cluster.sim.counters.messagesSent - idleStart) / 2
        #expect(idle <= 60, "too many RPCs (\(idle)) for 1 second of idleness")
        cluster.checkInvariants()
    }

    /// TestUnreliableAgree2C: 5 servers on a network that delays up to 26 ms and drops 10% of
    /// messages; rounds of concurrent commands all commit.
    @Test func unreliableAgreement() {
        let network = LinkProfile(latency: .uniform(.zero...(.milliseconds(26))), loss: 0.1)
        let cluster = RaftHarness(nodes: 5, seed: 20, network: network)
        let iterations = Scale.count(10, full: 50)
        var operations: [(operation: Int, value: String)] = []
        for iteration in 0..<iterations {
            for j in 0..<4 { operations.append((cluster.submit("u\(iteration)-\(j)"), "u\(iteration)-\(j)")) }
            cluster.one("u\(iteration)", expected: 1)
        }
        for (operation, _) in operations { _ = cluster.waitFor(operation) }
        let acknowledged = operations.filter { cluster.sim.history[$0.operation].outcome == .ok(.done) }
        #expect(acknowledged.count > operations.count / 2, "only \(acknowledged.count) of \(operations.count) commands were acknowledged")
        for (operation, _) in acknowledged {
            #expect(cluster.invariants.indexOfClient[cluster.sim.history[operation].client] != nil, "acknowledged command \(operation) is not in the log")
        }
        // 6.824 runs each of these through one(), which retries for 10 s: every command must get
        // through, still on the unreliable network. A client gives up after its timeout, so the
        // ones that timed out are retried the same way.
        for (operation, value) in operations where cluster.sim.history[operation].outcome != .ok(.done) {
            cluster.one(value, expected: 1)
        }
        cluster.sim.apply(.restoreNetwork)
        cluster.one("final", expected: 5)
        cluster.checkInvariants()
    }
}
