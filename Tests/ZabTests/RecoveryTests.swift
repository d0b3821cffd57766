import ConsensusCore
import Simulator
import Storage
import Testing
import Zab

/// Discovery and synchronisation after failures: the seeds' two cases of §3.4.2 and each sync
/// mode of §3.5 chosen end to end in the situation that calls for it.
@Suite struct RecoveryTests {
    /// A cluster whose leader crashes the moment it is about to send its first PROPOSAL after 1 s:
    /// the proposal is in its log (storage is synced before messages leave) and nowhere else.
    static func crashBeforeProposing(seed: UInt64 = 1) -> SimulationConfig {
        var config = quietConfig(seed: seed, duration: .seconds(8))
        config.faults = [FaultStep(on: Trigger(.sent(kind: "PROPOSAL"), node: .leader, notBefore: .zero + .seconds(1)), .crash(.leader))]
        return config
    }

    /// Writes `count` values through `node` one after another.
    static func write(_ count: Int, via node: NodeID, prefix: String, in simulation: Simulation<Zab>) {
        for n in 1...count {
            let index = simulation.submit(.put(key: "\(prefix)\(n)", value: "\(prefix)-\(n)"), via: node)
            simulation.runUntilComplete(index)
            #expect(simulation.history[index].outcome == .ok(.done), "write \(prefix)\(n) via \(node)")
        }
    }

    /// Sets up the seeds' first case: two committed writes, then the leader logs a third and dies
    /// before proposing it; the others elect a new leader. Returns (old leader, new leader, lost
    /// zxid) once the client of the lost write has given up (until then it retries it, and a retry
    /// through the restarted node would be a new proposal of the same request).
    static func leaderDiesBeforeProposing(_ simulation: Simulation<Zab>) -> (NodeID, NodeID, Zxid)? {
        guard let old = simulation.runUntilLeader() else { return nil }
        write(2, via: old, prefix: "a", in: simulation)
        simulation.run(until: .zero + .seconds(1))
        let write = simulation.submit(.put(key: "lost", value: "never"), via: old)
        simulation.run(for: .milliseconds(1))
        #expect(!simulation.isUp(old), "the trigger crashed the leader before its PROPOSAL left")
        let lost = simulation.storage(old).durable.entries.last!.zxid
        guard let new = simulation.runUntilLeader() else { return nil }
        simulation.run(until: simulation.history[write].invoke + simulation.config.workload.timeout + .milliseconds(1))
        #expect(simulation.history[write].outcome == .indeterminate, "its client never learns what became of it")
        return (old, new, lost)
    }

    /// §3.4.2, first case, and §3.5.2 "TRUNC only": the proposal the old leader logged but never
    /// sent is discarded when it comes back, although it comes back with the highest zxid.
    @Test func proposalLoggedButNeverSentIsDiscarded() throws {
        let (simulation, checker) = checkedSimulation(Self.crashBeforeProposing())
        let (old, new, lost) = try #require(Self.leaderDiesBeforeProposing(simulation))
        #expect(simulation.backend(new)!.log.lastZxid < lost, "the new leader never had it")
        simulation.apply(.restart(.id(old)))
        simulation.run(for: .seconds(2))
        #expect(simulation.backend(old)?.leaderID == new, "the old leader follows the new one")
        let trunc = simulation.notes("sync", containing: "TRUNC to \(old)")
        #expect(trunc.count == 1 && trunc[0].event.detail.contains("roll back to \(Zxid(epoch: lost.epoch, counter: lost.counter - 1))"), "\(trunc.map(\.event.detail))")
        #expect(!trunc[0].event.detail.contains("then"), "nothing to send after the roll-back: TRUNC only")
        #expect(simulation.backend(old)!.log.entries.allSatisfy { $0.zxid != lost })
        #expect(!simulation.storage(old).durable.entries.contains { $0.zxid == lost }, "rolled back in storage too")
        #expect(!checker.delivered.contains { $0.zxid == lost }, "no node ever delivered it")
        #expect(simulation.cluster.allSatisfy { simulation.backend($0)?.appliedData?["lost"] == nil })
        #expect(checker.failures.isEmpty, "\(checker.failures)")
    }

    /// §3.5.2 "TRUNC, then DIFF": the new leader has moved on when the old one comes back.
    @Test func proposalLoggedButNeverSentIsDiscardedThenNewOnesSent() throws {
        let (simulation, checker) = checkedSimulation(Self.crashBeforeProposing())
        let (old, new, lost) = try #require(Self.leaderDiesBeforeProposing(simulation))
        Self.write(2, via: new, prefix: "b", in: simulation)
        let newEpoch = simulation.backend(new)!.currentEpoch
        simulation.apply(.restart(.id(old)))
        simulation.run(for: .seconds(2))
        let sync = simulation.notes("sync", containing: "TRUNC+DIFF to \(old)")
        #expect(sync.count == 1, "\(simulation.notes("sync").map(\.event.detail))")
        let rollBack = Zxid(epoch: lost.epoch, counter: lost.counter - 1)
        let sent = "2 proposals \(Zxid(epoch: newEpoch, counter: 1))…\(Zxid(epoch: newEpoch, counter: 2))"
        #expect(sync.first.map { $0.event.detail.contains("roll back to \(rollBack), then \(sent)") } == true, "\(sync.map(\.event.detail))")
        #expect(simulation.backend(old)!.appliedData == simulation.backend(new)!.appliedData)
        #expect(simulation.backend(old)!.appliedData?["b2"] == "b-2" && simulation.backend(old)!.appliedData?["lost"] == nil)
        #expect(checker.failures.isEmpty, "\(checker.failures)")
    }

    /// §3.4.2, second case: a proposal that reached some followers but was never committed survives
    /// into the new epoch, where the new leader commits it as part of its initial history.
    @Test func proposalSentButNeverCommittedSurvives() throws {
        var config = quietConfig(duration: .seconds(8))
        // The leader dies as soon as a follower receives its first PROPOSAL after 1 s: no ACK can
        // have reached it, so the proposal is not committed anywhere.
        config.faults = [FaultStep(on: Trigger(.received(kind: "PROPOSAL"), notBefore: .zero + .seconds(1)), .crash(.leader))]
        let (simulation, checker) = checkedSimulation(config)
        let old = try #require(simulation.runUntilLeader())
        Self.write(2, via: old, prefix: "a", in: simulation)
        simulation.run(until: .zero + .seconds(1))
        let client = simulation.cluster.first { $0 != old }!
        let write = simulation.submit(.put(key: "survivor", value: "yes"), via: client)
        simulation.run(for: .milliseconds(3))
        #expect(!simulation.isUp(old))
        let proposed = try #require(simulation.storage(old).durable.entries.last)
        #expect(proposed.request.command == .put(key: "survivor", value: "yes"))
        #expect(!checker.delivered.contains { $0.zxid == proposed.zxid }, "not committed before the crash")
        let new = try #require(simulation.runUntilLeader())
        #expect(simulation.backend(new)!.currentEpoch > proposed.zxid.epoch)
        simulation.runUntilComplete(write)
        #expect(simulation.history[write].outcome == .ok(.done), "the client's write took effect")
        #expect(checker.delivered.contains { $0.zxid == proposed.zxid }, "the old epoch's proposal \(proposed.zxid) is delivered in the new epoch")
        #expect(simulation.cluster.filter(simulation.isUp).allSatisfy { simulation.backend($0)?.appliedData?["survivor"] == "yes" })
        #expect(checker.failures.isEmpty, "\(checker.failures)")
    }

    /// §3.5.1 DIFF: a follower that was down while two writes committed gets exactly those two.
    @Test func followerThatMissedWritesGetsDiff() throws {
        let (simulation, checker) = checkedSimulation(quietConfig())
        let leader = try #require(simulation.runUntilLeader())
        let follower = simulation.cluster.first { $0 != leader }!
        Self.write(2, via: leader, prefix: "a", in: simulation)
        let before = simulation.backend(follower)!.log.lastZxid
        simulation.apply(.crash(.id(follower)))
        Self.write(2, via: leader, prefix: "b", in: simulation)
        simulation.apply(.restart(.id(follower)))
        simulation.run(for: .seconds(2))
        let sync = simulation.notes("sync", containing: "DIFF to \(follower)")
        let epoch = before.epoch
        let expected = "its last zxid \(before)"
        #expect(sync.last.map { $0.event.detail.contains(expected) && $0.event.detail.contains(": 2 proposals \(Zxid(epoch: epoch, counter: 3))…\(Zxid(epoch: epoch, counter: 4))") } == true,
                "\(simulation.notes("sync").map(\.event.detail))")
        #expect(simulation.backend(follower)!.appliedData == simulation.backend(leader)!.appliedData)
        #expect(checker.failures.isEmpty, "\(checker.failures)")
    }

    /// §3.5.3 SNAP: a follower older than the leader's committed-log window gets the whole state.
    @Test func followerOlderThanTheWindowGetsSnap() throws {
        var options = ZabOptions()
        options.snapCount = 8
        options.commitLogCount = 3
        let (simulation, checker) = checkedSimulation(quietConfig(), options)
        let leader = try #require(simulation.runUntilLeader())
        let follower = simulation.cluster.first { $0 != leader }!
        Self.write(2, via: leader, prefix: "a", in: simulation)
        simulation.apply(.crash(.id(follower)))
        Self.write(20, via: leader, prefix: "b", in: simulation)
        #expect(!simulation.notes("snapshot").isEmpty, "snapshots were taken and the log compacted")
        simulation.apply(.restart(.id(follower)))
        simulation.run(for: .seconds(2))
        let snap = simulation.notes("sync", containing: "SNAP to \(follower)")
        #expect(snap.count == 1, "\(simulation.notes("sync").map(\.event.detail))")
        #expect(simulation.backend(follower)!.appliedData == simulation.backend(leader)!.appliedData)
        #expect(simulation.storage(follower).durable.snapshot != nil, "the follower stored the snapshot")
        #expect(checker.failures.isEmpty, "\(checker.failures)")
    }

    /// Acknowledged writes survive the crash of every node at once (only synced data survives; the
    /// log, epochs and snapshots are all recovered from storage).
    @Test func everythingAcknowledgedSurvivesAFullRestart() throws {
        var options = ZabOptions()
        options.snapCount = 6
        let (simulation, checker) = checkedSimulation(quietConfig(), options)
        let leader = try #require(simulation.runUntilLeader())
        Self.write(10, via: leader, prefix: "a", in: simulation)
        let epoch = simulation.backend(leader)!.currentEpoch
        for node in simulation.cluster { simulation.apply(.crash(.id(node))) }
        for node in simulation.cluster { simulation.apply(.restart(.id(node))) }
        #expect(simulation.cluster.allSatisfy { simulation.backend($0)!.currentEpoch == epoch }, "epochs recovered from storage")
        let next = try #require(simulation.runUntilLeader())
        #expect(simulation.backend(next)!.currentEpoch > epoch)
        for n in 1...10 { #expect(simulation.backend(next)!.appliedData?["a\(n)"] == "a-\(n)") }
        #expect(checker.failures.isEmpty, "\(checker.failures)")
    }
}
