import ConsensusCore
import Raft
import Simulator
import Testing

/// MIT 6.824 lab 2C (persistence), ported: term, vote and log survive crashes (only what was
/// synced, and the driver syncs before anything that depends on it leaves the node).
@Suite struct PersistenceTests {
    /// TestPersist12C: the whole cluster, then leaders, then a follower crash and restart.
    @Test func persist1() {
        let cluster = RaftHarness(nodes: 3, seed: 21)
        cluster.one("11", expected: 3)
        let termsBefore = cluster.nodes.map { cluster.raft($0)!.currentTerm }
        for node in cluster.nodes { cluster.crash(node) }
        for node in cluster.nodes { cluster.restart(node) }
        for (node, term) in zip(cluster.nodes, termsBefore) {
            let raft = cluster.raft(node)!
            #expect(raft.currentTerm == term, "\(node) forgot its term")
            #expect(raft.log.lastIndex >= 2, "\(node) restarted with an empty log")
        }
        cluster.one("12", expected: 3)
        let leader1 = cluster.checkOneLeader()!
        cluster.crash(leader1)
        cluster.restart(leader1)
        cluster.one("13", expected: 3)
        let leader2 = cluster.checkOneLeader()!
        cluster.crash(leader2)
        cluster.one("14", expected: 2)
        cluster.restart(leader2)
        let index = cluster.one("14b", expected: 3)!
        #expect(cluster.nCommitted(index) == 3)
        let leader3 = cluster.checkOneLeader()!
        let other = cluster.nodes.first { $0 != leader3 }!
        cluster.crash(other)
        cluster.one("15", expected: 2)
        cluster.restart(other)
        cluster.one("16", expected: 3)
        cluster.checkInvariants()
    }

    /// TestPersist22C: rounds of partitions with crashes and restarts of the cut-off servers.
    @Test func persist2() {
        let cluster = RaftHarness(nodes: 5, seed: 22)
        var index = 1
        for _ in 0..<Scale.count(4, full: 10) {
            cluster.one("\(10 + index)", expected: 5)
            index += 1
            let leader1 = cluster.checkOneLeader()!
            let ring = (0..<5).map { cluster.nodes[(cluster.nodes.firstIndex(of: leader1)! + $0) % 5] }
            cluster.disconnect(ring[1])
            cluster.disconnect(ring[2])
            cluster.one("\(10 + index)", expected: 3)
            index += 1
            cluster.disconnect(ring[0])
            cluster.disconnect(ring[3])
            cluster.disconnect(ring[4])
            cluster.crash(ring[1])
            cluster.crash(ring[2])
            cluster.restart(ring[1])
            cluster.restart(ring[2])
            cluster.connect(ring[1])
            cluster.connect(ring[2])
            cluster.run(.milliseconds(1_000))
            cluster.crash(ring[3])
            cluster.restart(ring[3])
            cluster.connect(ring[3])
            cluster.one("\(10 + index)", expected: 3)
            index += 1
            cluster.connect(ring[4])
            cluster.connect(ring[0])
        }
        cluster.one("1000", expected: 5)
        cluster.checkInvariants()
    }

    /// TestPersist32C: a partitioned leader and a follower crash; the survivor and the restarted
    /// leader carry on, then the follower catches up.
    @Test func persist3() {
        let cluster = RaftHarness(nodes: 3, seed: 23)
        cluster.one("101", expected: 3)
        let leader = cluster.checkOneLeader()!
        let position = cluster.nodes.firstIndex(of: leader)!
        let next = cluster.nodes[(position + 1) % 3], third = cluster.nodes[(position + 2) % 3]
        cluster.disconnect(third)
        cluster.one("102", expected: 2)
        cluster.crash(leader)
        cluster.crash(next)
        cluster.connect(third)
        cluster.restart(leader)
        cluster.one("103", expected: 2)
        cluster.restart(next)
        cluster.one("104", expected: 3)
        cluster.checkInvariants()
    }

    /// TestFigure82C: leaders crash right after accepting commands, at random moments, with at
    /// least three of five servers up; at the end every server agrees. The invariants (checked
    /// after every step) catch an old-term entry committed by counting and then overwritten.
    @Test func figure8() {
        figure8(seed: 24, unreliable: false)
    }

    /// TestFigure8Unreliable2C: the same on a lossy network with long reordering (two thirds of
    /// messages delayed 200–2200 ms after the first fifth of the run), disconnecting instead of crashing.
    @Test func figure8Unreliable() {
        figure8(seed: 25, unreliable: true)
    }

    private func figure8(seed: UInt64, unreliable: Bool) {
        let network = unreliable ? LinkProfile(latency: .uniform(.zero...(.milliseconds(26))), loss: 0.1) : LinkProfile()
        let cluster = RaftHarness(nodes: 5, seed: seed, network: network)
        cluster.one("start", expected: 1)
        var random = DeterministicRandom(seed: seed, label: "figure8")
        var down: [NodeID] = []
        let iterations = Scale.count(100, full: 1_000)
        for iteration in 0..<iterations {
            if unreliable, iteration == iterations / 5 {
                cluster.sim.apply(.network(LinkChange(reorder: 0.66, reorderDelay: .uniform(.milliseconds(200)...(.milliseconds(2_200))))))
            }
            let leader = cluster.leaders().max { $0.term < $1.term }?.node
            if let leader { _ = cluster.sim.submit(.put(key: "k", value: "f\(iteration)"), via: leader) }
            let pause = random.chance(0.1) ? random.uniform(0...250) : random.uniform(0...13)
            cluster.run(.milliseconds(Int64(pause)))
            if let leader, !unreliable || random.chance(0.5) {
                if unreliable { cluster.disconnect(leader) } else { cluster.crash(leader) }
                down.append(leader)
            }
            if down.count > 2 {
                let back = down.remove(at: random.index(below: down.count))
                if unreliable { cluster.connect(back) } else { cluster.restart(back) }
            }
        }
        for node in down { if unreliable { cluster.connect(node) } else { cluster.restart(node) } }
        cluster.sim.apply(.restoreNetwork)
        cluster.one("end", expected: 5)
        cluster.checkInvariants()
    }

    /// TestReliableChurn2C / TestUnreliableChurn2C: clients write while servers are cut off,
    /// crashed and restarted at random; every value a client saw committed is in the final log.
    @Test(arguments: [false, true]) func churn(unreliable: Bool) {
        let network = unreliable ? LinkProfile(latency: .uniform(.zero...(.milliseconds(26))), loss: 0.1) : LinkProfile()
        let cluster = RaftHarness(nodes: 5, seed: unreliable ? 27 : 26, network: network) { config in
            config.duration = .seconds(Int64(Scale.count(6, full: 20)))
            config.workload.clientsPerNode = 1
            config.workload.mix = .init(get: 0, put: 1, append: 0, cas: 0, delete: 0)
        }
        var random = DeterministicRandom(seed: 26, label: "churn")
        let rounds = Scale.count(12, full: 40)
        for _ in 0..<rounds {
            let node = cluster.nodes[random.index(below: 5)]
            switch random.uniform(0...3) {
            case 0: cluster.disconnect(node)
            case 1: cluster.connect(node)
            case 2: if cluster.sim.isUp(node) { cluster.crash(node) }
            default: if !cluster.sim.isUp(node) { cluster.restart(node) }
            }
            cluster.run(.milliseconds(100))
        }
        for node in cluster.nodes {
            if !cluster.sim.isUp(node) { cluster.restart(node) }
            cluster.connect(node)
        }
        cluster.sim.apply(.restoreNetwork)
        cluster.run(cluster.sim.config.duration - (cluster.sim.now - .zero) + .seconds(3))
        cluster.one("final", expected: 5)
        let decided = Set(cluster.invariants.decided.compactMap { $0?.request?.command.writtenValue })
        let acknowledged = cluster.sim.history.filter { $0.outcome == .ok(.done) }
        #expect(acknowledged.count > 20, "too few commands were acknowledged: \(acknowledged.count)")
        let missing = acknowledged.filter { !decided.contains($0.command.writtenValue!) }
        #expect(missing.isEmpty, "acknowledged but not in the log: \(missing.prefix(5).map(\.id))")
        cluster.checkInvariants()
    }
}
