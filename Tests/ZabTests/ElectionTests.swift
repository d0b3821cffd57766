import ConsensusCore
import Simulator
import Testing
@testable import Zab

/// Fast Leader Election: the seeds' §3.4.3 (start-up) and §3.4.4 (at run time).
@Suite struct ElectionTests {
    /// §3.4.3 with `Experiments/staggered-start.json`: five servers start one a second with empty
    /// logs. Nobody leads with one or two up; once node 3 is up it wins (equal zxids, highest id)
    /// with 1 and 2; nodes 4 and 5 find it LEADING and follow it, although their ids are higher.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func staggeredStartElectsNodeThree(seed: UInt64) throws {
        let (config, options) = try scenarioRun("staggered-start.json", backend: "zab", seed: seed)
        let (simulation, checker) = checkedSimulation(config, options)
        simulation.run(until: .zero + .milliseconds(1_990))
        #expect(simulation.cluster.allSatisfy { simulation.backend($0)?.state != .leading }, "no leader while only n1 and n2 are up")
        #expect(simulation.backend(NodeID(1))?.state == .looking && simulation.backend(NodeID(2))?.state == .looking)
        simulation.run(until: .zero + .milliseconds(2_600))
        #expect(simulation.establishedLeader == NodeID(3), "node 3 leads once three are up")
        simulation.run(until: .zero + .seconds(5))
        for node in [4, 5].map(NodeID.init) {
            #expect(simulation.backend(node)?.state == .following && simulation.backend(node)?.leaderID == NodeID(3), "\(node) follows n3")
            #expect(simulation.backend(node)?.isServing == true)
        }
        let result = simulation.run()
        checker.checkAcknowledged(result.history)
        #expect(checker.leaders.values.allSatisfy { $0 == NodeID(3) }, "n3 leads the whole run: \(checker.leaders)")
        // Nodes 4 and 5 join with empty logs while n3 holds committed transactions: SNAP.
        #expect(!simulation.events("sync", containing: "SNAP to n4").isEmpty || !simulation.events("sync", containing: "DIFF to n4").isEmpty)
        #expect(checker.failures.isEmpty, "\(checker.failures.joined(separator: "\n"))")
    }

    /// §3.4.4: when the leader dies, the survivors vote; the one with the highest zxid wins.
    @Test func runtimeElectionPrefersTheHighestZxid() {
        let (simulation, checker) = checkedSimulation(quietConfig())
        let leader = try! #require(simulation.runUntilLeader())
        let others = simulation.cluster.filter { $0 != leader }
        // One write reaches only `favourite` and the leader: the others miss it.
        let favourite = others.first!
        simulation.apply(.partition([[.id(leader), .id(favourite)], others.dropFirst().map { .id($0) }]))
        simulation.submit(.put(key: "k", value: "v"), via: leader)
        simulation.run(for: .milliseconds(20))
        #expect(simulation.backend(favourite)!.log.lastZxid > simulation.backend(others[1])!.log.lastZxid)
        simulation.apply(.crash(.id(leader)))
        simulation.apply(.heal)
        let next = simulation.runUntilLeader()
        #expect(next == favourite, "the survivor holding the newest zxid wins, whatever its id")
        #expect(simulation.backend(favourite)!.appliedData?["k"] == "v", "its proposal survives into the new epoch")
        #expect(checker.failures.isEmpty, "\(checker.failures)")
    }

    @Test func votesCompareEpochThenZxidThenId() {
        let low = Vote(leader: NodeID(5), zxid: Zxid(epoch: 1, counter: 9), epoch: 1)
        let newerEpoch = Vote(leader: NodeID(1), zxid: Zxid(epoch: 1, counter: 2), epoch: 2)
        let newerZxid = Vote(leader: NodeID(1), zxid: Zxid(epoch: 1, counter: 10), epoch: 1)
        let higherId = Vote(leader: NodeID(6), zxid: Zxid(epoch: 1, counter: 9), epoch: 1)
        #expect(newerEpoch.beats(low) && newerZxid.beats(low) && higherId.beats(low))
        #expect(!low.beats(low))
        #expect(newerEpoch.beats(newerZxid))
    }

    /// A leader that stops hearing a quorum gives up; so does a follower that stops hearing its leader.
    @Test func isolatedLeaderAndFollowerGoBackToLooking() {
        let options = ZabOptions()
        let (simulation, checker) = checkedSimulation(quietConfig())
        let leader = try! #require(simulation.runUntilLeader())
        simulation.apply(.partitionShape(.isolate(.id(leader))))
        simulation.run(for: options.syncTimeout + options.tickTime)
        #expect(simulation.backend(leader)?.state == .looking, "the isolated leader gave up")
        let next = simulation.runUntilLeader()
        #expect(next != nil && next != leader)
        let epochs = simulation.cluster.compactMap { simulation.backend($0)?.currentEpoch }
        #expect(simulation.backend(next!)!.currentEpoch == epochs.max())
        simulation.apply(.heal)
        simulation.run(for: .seconds(2))
        #expect(simulation.backend(leader)?.state == .following && simulation.backend(leader)?.leaderID == next, "the old leader rejoins as a follower")
        #expect(checker.failures.isEmpty, "\(checker.failures)")
    }
}
