import ConsensusCore
import Simulator
import Testing

@Suite struct NetworkModelTests {
    func send(_ network: inout NetworkModel, _ random: inout DeterministicRandom, count: Int, from: Int = 0, to: Int = 1) -> [Deliveries] {
        (0..<count).map { i in network.transmitBetweenNodes(from: from, to: to, at: Instant(microseconds: Int64(i) * 10), random: &random) }
    }

    @Test func lossAndDuplicationRatesMatchTheirProbabilities() {
        var network = NetworkModel(nodeCount: 2, profile: LinkProfile(latency: .fixed(.milliseconds(1)), loss: 0.2, duplicate: 0.05))
        var random = DeterministicRandom(seed: 3)
        let sent = 100_000
        let deliveries = send(&network, &random, count: sent)
        let lost = Double(deliveries.filter { $0.first == nil }.count) / Double(sent)
        let duplicated = Double(deliveries.filter { $0.second != nil }.count) / Double(sent - Int(lost * Double(sent)))
        // Binomial standard deviations are about 0.0013 and 0.0008: allow five.
        #expect(abs(lost - 0.2) < 0.0065, "loss \(lost)")
        #expect(abs(duplicated - 0.05) < 0.004, "duplication \(duplicated)")
    }

    @Test func linksAreFIFOUnlessReorderingIsAsked() {
        var fifo = NetworkModel(nodeCount: 2, profile: LinkProfile(latency: .uniform(.milliseconds(1)...(.milliseconds(20)))))
        var random = DeterministicRandom(seed: 5)
        let ordered = send(&fifo, &random, count: 2_000).compactMap(\.first)
        #expect(ordered == ordered.sorted())
        var reordering = NetworkModel(nodeCount: 2, profile: LinkProfile(latency: .uniform(.milliseconds(1)...(.milliseconds(20))), reorder: 0.3))
        let shuffled = send(&reordering, &random, count: 2_000).compactMap(\.first)
        #expect(shuffled != shuffled.sorted())
    }

    @Test func aOneWayCutBlocksOneDirectionOnly() {
        var network = NetworkModel(nodeCount: 3, profile: LinkProfile(latency: .fixed(.milliseconds(1))))
        var random = DeterministicRandom(seed: 1)
        network.setReachable(0, 1, false)
        #expect(send(&network, &random, count: 50, from: 0, to: 1).allSatisfy { $0.first == nil })
        #expect(send(&network, &random, count: 50, from: 1, to: 0).allSatisfy { $0.first != nil })
        #expect(send(&network, &random, count: 50, from: 0, to: 2).allSatisfy { $0.first != nil })
    }

    @Test func aPartitionBlocksExactlyTheCutLinksAndHealingRestoresThem() {
        var network = NetworkModel(nodeCount: 5, profile: LinkProfile(latency: .fixed(.milliseconds(1))))
        network.partition([[0, 1, 2], [3, 4]])
        for from in 0..<5 {
            for to in 0..<5 {
                let sameSide = (from < 3) == (to < 3)
                #expect(network.canReach(from, to) == sameSide, "\(from)→\(to)")
            }
        }
        #expect(network.reachability.groups == [[NodeID(1), NodeID(2), NodeID(3)], [NodeID(4), NodeID(5)]])
        #expect(network.reachability.description == "n1,n2,n3 | n4,n5")
        network.setReachable(3, 0, true)
        #expect(network.reachability.groups == nil, "n4 reaches n1, which does not reach it back")
        #expect(network.reachability.description == "n1→n2,n3; n2→n1,n3; n3→n1,n2; n4→n1,n5; n5→n4")
        network.heal()
        #expect(network.isFullyConnected)
    }

    @Test func clientsShareTheirNodesFate() {
        var network = NetworkModel(nodeCount: 3, profile: LinkProfile(latency: .fixed(.milliseconds(1))))
        var random = DeterministicRandom(seed: 1)
        network.partition([[0], [1, 2]])
        // A client pinned to node 0 reaches node 0 but not nodes 1 and 2, in both directions.
        #expect(network.transmitClient(0, home: 0, node: 0, toNode: true, at: .zero, random: &random).first != nil)
        #expect(network.transmitClient(0, home: 0, node: 1, toNode: true, at: .zero, random: &random).first == nil)
        #expect(network.transmitClient(0, home: 0, node: 2, toNode: false, at: .zero, random: &random).first == nil)
        #expect(network.transmitClient(1, home: 1, node: 2, toNode: true, at: .zero, random: &random).first != nil)
    }

    @Test func latencyDistributionsHaveTheirShape() {
        var random = DeterministicRandom(seed: 9)
        let samples = (0..<20_000).map { _ in LatencyDistribution.longTail(median: .milliseconds(2), p99: .milliseconds(50)).sample(&random).microseconds }.sorted()
        #expect(abs(Double(samples[10_000]) - 2_000) < 150, "median \(samples[10_000])")
        #expect(abs(Double(samples[19_800]) - 50_000) < 8_000, "p99 \(samples[19_800])")
        let exponential = (0..<20_000).map { _ in LatencyDistribution.exponential(minimum: .milliseconds(1), mean: .milliseconds(4)).sample(&random).microseconds }
        #expect(exponential.allSatisfy { $0 >= 1_000 })
        #expect(abs(Double(exponential.reduce(0, +)) / 20_000 - 5_000) < 150)
        let uniform = (0..<1_000).map { _ in LatencyDistribution.uniform(.milliseconds(1)...(.milliseconds(3))).sample(&random) }
        #expect(uniform.allSatisfy { $0 >= .milliseconds(1) && $0 <= .milliseconds(3) })
    }
}
