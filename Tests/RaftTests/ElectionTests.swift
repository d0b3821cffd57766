import ConsensusCore
import Raft
import Simulator
import Testing

/// MIT 6.824 lab 2A (leader election), ported to the simulator: same intent and thresholds, in
/// virtual time.
@Suite struct ElectionTests {
    /// TestInitialElection2A: 3 servers elect one leader, with a term ≥ 1 they all agree on, and
    /// keep both when nothing fails.
    @Test func initialElection() {
        let cluster = RaftHarness(nodes: 3, seed: 1)
        let leader = cluster.checkOneLeader()
        #expect(leader != nil)
        cluster.run(.milliseconds(50))
        let term = cluster.checkTerms()
        #expect((term ?? 0) >= 1, "term is \(term ?? 0), but should be at least 1")
        // No failure: no new election.
        cluster.run(.seconds(2))
        #expect(cluster.checkTerms() == term, "term changed even though there were no failures")
        #expect(cluster.checkOneLeader() == leader)
        // events.csv shows when the leader could serve: its first commit, an entry of its own term.
        let commits = cluster.sim.events.compactMap { record -> (node: NodeID?, term: UInt64)? in
            guard case .firstCommit(_, let term) = record.event else { return nil }
            return (record.node, term)
        }
        #expect(commits.count == 1 && commits.first?.node == leader && commits.first?.term == term, "\(commits)")
        cluster.checkInvariants()
    }

    /// TestReElection2A: a new leader after the leader is cut off; the old one rejoining does not
    /// disturb it; no leader without a majority; a leader again once a majority is back.
    @Test func reElection() {
        let cluster = RaftHarness(nodes: 3, seed: 2)
        let first = cluster.checkOneLeader()!
        cluster.disconnect(first)
        let second = cluster.checkOneLeader()
        #expect(second != nil && second != first)
        cluster.connect(first)
        let afterRejoin = cluster.checkOneLeader()!
        cluster.disconnect(afterRejoin)
        cluster.disconnect(cluster.nodes.first { $0 != afterRejoin }!)
        cluster.run(.seconds(2))
        cluster.checkNoLeader()
        cluster.connect(cluster.nodes.first { $0 != afterRejoin }!)
        cluster.checkOneLeader()
        cluster.connect(afterRejoin)
        cluster.checkOneLeader()
        cluster.checkInvariants()
    }

    /// TestManyElections2A: 7 servers, rounds of 3 random disconnections; a leader whenever a
    /// majority is connected, never two in a term (checked after every step).
    @Test func manyElections() {
        let cluster = RaftHarness(nodes: 7, seed: 3)
        cluster.checkOneLeader()
        var random = DeterministicRandom(seed: 3, label: "many-elections")
        for _ in 0..<Scale.count(5, full: 10) {
            var cut = cluster.nodes
            random.shuffle(&cut)
            for node in cut.prefix(3) { cluster.disconnect(node) }
            // Either the current leader is still alive or the remaining four elect a new one.
            cluster.checkOneLeader()
            for node in cut.prefix(3) { cluster.connect(node) }
        }
        cluster.checkOneLeader()
        cluster.checkInvariants()
    }
}
