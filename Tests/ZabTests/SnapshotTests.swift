import ConsensusCore
import Simulator
import Storage
import Testing
import Zab

/// Snapshots every snapCount/2 … snapCount logged transactions, jittered per node (the seeds' §3.2),
/// and recovery from them.
@Suite struct SnapshotTests {
    @Test func snapshotsAreJitteredPerNodeWithinHalfToFullSnapCount() {
        var options = ZabOptions()
        options.snapCount = 20
        var config = SimulationConfig(nodes: 5, seed: 7, duration: .seconds(3), quiescence: .seconds(1))
        config.workload.mix = .init(get: 0, put: 1, append: 0, cas: 0, delete: 0)
        let (simulation, checker) = checkedSimulation(config, options)
        _ = simulation.run()
        var thresholds: [NodeID: [Int]] = [:]
        for event in simulation.notes("snapshot") {
            // "at 0x… (index n); next after k transactions"
            let k = Int(event.event.detail.split(separator: " ").dropLast().last!)!
            thresholds[event.node!, default: []].append(k)
        }
        #expect(thresholds.count == 5, "every node snapshots")
        let all = thresholds.values.flatMap { $0 }
        #expect(all.allSatisfy { (10..<20).contains($0) }, "\(all)")
        #expect(Set(all).count > 3, "the thresholds are drawn, not fixed: \(Set(all).sorted())")
        let firsts = simulation.cluster.compactMap { thresholds[$0]?.first }
        #expect(Set(firsts).count > 1, "nodes do not snapshot in lockstep: \(firsts)")
        for node in simulation.cluster {
            let stored = simulation.storage(node).durable
            #expect(stored.snapshot != nil)
            #expect(stored.entries.count < 2 * options.snapCount, "the log is compacted: \(stored.entries.count) entries at \(node)")
        }
        #expect(checker.failures.isEmpty, "\(checker.failures)")
    }

    /// A node restarted from a snapshot and the log after it holds what it held before.
    @Test func restartRecoversSnapshotAndLog() throws {
        var options = ZabOptions()
        options.snapCount = 10
        let (simulation, checker) = checkedSimulation(quietConfig(), options)
        let leader = try #require(simulation.runUntilLeader())
        let follower = simulation.cluster.first { $0 != leader }!
        RecoveryTests.write(17, via: leader, prefix: "a", in: simulation)
        simulation.run(for: .milliseconds(100))
        let before = simulation.backend(follower)!
        #expect(simulation.storage(follower).durable.snapshot != nil)
        simulation.apply(.crash(.id(follower)))
        simulation.apply(.restart(.id(follower)))
        let after = simulation.backend(follower)!
        #expect(after.log.lastZxid == before.log.lastZxid, "the log after the snapshot is recovered")
        #expect(after.appliedIndex == simulation.storage(follower).durable.snapshot!.lastIndex, "the state is the snapshot's until a leader commits the rest")
        #expect(after.acceptedEpoch == before.acceptedEpoch && after.currentEpoch == before.currentEpoch)
        simulation.run(for: .seconds(2))
        #expect(simulation.backend(follower)!.appliedData == simulation.backend(leader)!.appliedData)
        #expect(checker.failures.isEmpty, "\(checker.failures)")
    }
}
