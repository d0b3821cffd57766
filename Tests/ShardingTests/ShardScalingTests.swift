import ConsensusCore
import Lab
import Foundation
import Testing
@testable import Sharding

/// Throughput scales with server groups: the same uniform workload per group (48 closed-loop
/// clients each, 256 keys over 16 buckets) served by 1 and 4 groups of three simulated Raft
/// nodes — and under `CONLAB_FULL=1` by 1, 2, 4 and 8 — completes nearly proportionally more
/// operations per simulated second. Simulated time, so the figures are the same on any machine
/// (BENCHMARKS.md § Sharding).
@Suite struct ShardScalingTests {
    /// Operations completed per simulated second by `groups` groups, after a warm-up.
    static func throughput(groups: Int) throws -> Double {
        let deployment = ShardedDeployment(groups: Array(1...groups), buckets: 16, seed: 7)
        try deployment.change(.join(Dictionary(uniqueKeysWithValues: (1...groups).map { (GroupID($0), ["s\($0)"]) })))
        deployment.settle()
        var clients = ShardClients(count: 48 * groups, keys: 256, seed: 7, known: deployment.latest)
        deployment.run(for: .milliseconds(300)) { clients.step(deployment) }
        let before = clients.completed
        deployment.run(for: .seconds(1)) { clients.step(deployment) }
        return Double(clients.completed - before)
    }

    @Test func throughputGrowsWithTheGroups() throws {
        let counts = ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1" ? [1, 2, 4, 8] : [1, 4]
        let measured = try counts.map { try Self.throughput(groups: $0) }
        print("ShardScalingTests: groups \(counts), operations per simulated second \(measured.map { Int($0) })")
        for (count, ops) in zip(counts, measured).dropFirst() {
            #expect(ops >= 0.85 * Double(count) * measured[0], "\(count) groups: \(Int(ops)) ops/s against \(Int(measured[0])) for one")
        }
    }
}
