import ConsensusCore
import ConformanceSuite
import Simulator
import Storage
import Testing
import Zab

/// The ZAB column of FAULTS.md, each row run from its scenario file in `Experiments/`.
@Suite struct FaultsTests {
    static let seeds: [UInt64] = fullRun ? [1, 2, 3, 4, 5] : [1]

    /// Runs a scenario file for a ZAB variant with the invariants checked after every step.
    static func run(_ file: String, _ label: String = "zab", seed: UInt64) throws -> (Simulation<Zab>, SimulationResult, ZabChecker) {
        let (config, options) = try scenarioRun(file, backend: label, seed: seed)
        let (simulation, checker) = checkedSimulation(config, options)
        let result = simulation.run()
        checker.checkAcknowledged(result.history)
        return (simulation, result, checker)
    }

    static func isOK(_ operation: HistoryOperation) -> Bool {
        if case .ok = operation.outcome { true } else { false }
    }

    /// The smaller side of the first partition (`n1,n2 | n3,n4,n5`).
    static func minority(_ events: [EventRecord]) -> Set<NodeID> {
        events.partitionGroups.min { $0.count < $1.count } ?? []
    }

    struct Probe {
        var simulation: Simulation<Zab>
        var result: SimulationResult
        var checker: ZabChecker
        var minority: Set<NodeID>
        var staleProbe: HistoryOperation
    }

    /// `minority-partition` with a probe on top of the workload: `probe=before` is written and
    /// reaches every replica before the cut at 10 s; after it, `probe=after` is written through the
    /// leader's side and completes; then a client of a cut-off follower reads `probe`.
    static func minorityProbe(_ label: String, seed: UInt64) throws -> Probe {
        let (config, options) = try scenarioRun("minority-partition.json", backend: label, seed: seed)
        let (simulation, checker) = checkedSimulation(config, options)
        simulation.run(until: .zero + .milliseconds(9_900))
        let leader = try #require(simulation.establishedLeader)
        let before = simulation.submit(.put(key: "probe", value: "before"), via: leader)
        simulation.run(until: .zero + .seconds(10))
        #expect(simulation.history[before].outcome == .ok(.done))
        let minority = Self.minority(simulation.events)
        let reader = try #require(minority.min())
        #expect(simulation.backend(reader)?.appliedData?["probe"] == "before")
        let after = simulation.submit(.put(key: "probe", value: "after"), via: leader)
        simulation.runUntilComplete(after)
        #expect(simulation.history[after].outcome == .ok(.done), "the majority side writes")
        let read = simulation.submit(.get(key: "probe"), via: reader)
        let result = simulation.run()
        checker.checkAcknowledged(result.history)
        #expect(checker.failures.isEmpty, "\(checker.failures.joined(separator: "\n"))")
        return Probe(simulation: simulation, result: result, checker: checker, minority: minority, staleProbe: result.history[read])
    }

    /// `minority-partition`, read=local: a cut-off follower goes on answering reads from its own
    /// state until it notices its leader is gone (syncLimit ticks): the probe reads `before` although
    /// the write of `after` completed before the read began. The minority's writes stall; the
    /// majority goes on.
    @Test(arguments: seeds)
    func minorityPartitionLocalReadsAreStale(seed: UInt64) throws {
        let probe = try Self.minorityProbe("zab", seed: seed)
        #expect(probe.minority.count == 2)
        #expect(probe.staleProbe.outcome == .ok(.value("before")), "the minority answers from its stale state: \(probe.staleProbe.jsonLine)")
        let stale = StaleReads.find(in: probe.result.history)
        #expect(stale.contains { $0.read.id == probe.staleProbe.id }, "the checker's definition agrees: \(stale.prefix(3))")
        let onMinority = stale.filter { probe.minority.contains($0.read.node) && $0.read.invoke >= .zero + .seconds(10) }
        print("minority-partition seed \(seed), read=local: \(onMinority.count) stale reads on the minority, e.g. \(onMinority[0])")
        let window = (Instant.zero + .seconds(11))..<(Instant.zero + .seconds(20))
        let minorityWrites = probe.result.history.filter { !$0.command.isRead && probe.minority.contains($0.node) && window.contains($0.invoke) }
        #expect(!minorityWrites.contains { Self.isOK($0) && $0.complete! < .zero + .seconds(20) }, "no write completes on the minority side before the heal")
        let majorityWrites = probe.result.history.filter { !$0.command.isRead && !probe.minority.contains($0.node) && window.contains($0.invoke) }
        #expect(majorityWrites.filter(Self.isOK).count > 100, "the majority side stays available")
    }

    /// `minority-partition`, read=sync: the sync needs the leader and a quorum, so the probe never
    /// gets an answer, the minority serves no reads once cut off, and no read anywhere is stale.
    @Test(arguments: seeds)
    func minorityPartitionSyncReadsAreNotStale(seed: UInt64) throws {
        let probe = try Self.minorityProbe("zab[read=sync]", seed: seed)
        #expect(probe.staleProbe.outcome == .indeterminate, "\(probe.staleProbe.jsonLine)")
        let stale = StaleReads.find(in: probe.result.history)
        #expect(stale.isEmpty, "\(stale.prefix(3))")
        let cut = (Instant.zero + .milliseconds(10_010))..<(Instant.zero + .seconds(20))
        let minorityReads = probe.result.history.filter { $0.command.isRead && probe.minority.contains($0.node) && cut.contains($0.invoke) }
        let heal = Instant.zero + .seconds(20)
        #expect(!minorityReads.isEmpty && !minorityReads.contains { Self.isOK($0) && $0.complete! < heal }, "minority reads wait for a leader they cannot reach")
        #expect(probe.result.history.filter { $0.command.isRead && Self.isOK($0) }.count > 100)
    }

    /// `leader-crash`: unavailable for about one detection (syncLimit ticks) plus one Fast Leader
    /// Election (finalizeWait) plus sync, then available again; no acknowledged write lost; the
    /// old leader rejoins as a follower at 20 s.
    @Test(arguments: seeds)
    func leaderCrashCostsOneElection(seed: UInt64) throws {
        let (simulation, result, checker) = try Self.run("leader-crash.json", seed: seed)
        #expect(checker.failures.isEmpty, "\(checker.failures.joined(separator: "\n"))")
        let crash = Instant.zero + .seconds(10)
        let crashed = try #require(result.events.first { $0.event.kind == "crash" }?.node)
        let firstWrite = try #require(result.history.filter { !$0.command.isRead && $0.invoke >= crash && Self.isOK($0) }.compactMap(\.complete).min())
        let outage = firstWrite - crash
        let options = ZabOptions()
        print("leader-crash seed \(seed): writes unavailable for \(outage) after the leader crashed")
        #expect(outage >= options.finalizeWait, "at least one finalizeWait: \(outage)")
        #expect(outage <= options.syncTimeout + options.finalizeWait + .milliseconds(300), "about one detection + FLE + sync: \(outage)")
        let epochs = checker.leaders.keys.sorted()
        #expect(epochs.count == 2 && checker.leaders[epochs[0]] == crashed && checker.leaders[epochs[1]] != crashed, "\(checker.leaders)")
        #expect(simulation.backend(crashed)?.state == .following, "the old leader rejoined as a follower")
        #expect(Set(result.finalStates.values).count == 1 && result.finalStates.count == 5)
    }

    /// `leader-isolated`: the old leader, cut off with one follower, keeps proposing for a while,
    /// but none of those proposals ever commits; the majority elects a leader of a later epoch, and
    /// after the heal the old leader's extra proposals are rolled back.
    @Test(arguments: seeds)
    func isolatedLeadersProposalsNeverCommit(seed: UInt64) throws {
        let (config, options) = try scenarioRun("leader-isolated.json", backend: "zab", seed: seed)
        let (simulation, checker) = checkedSimulation(config, options)
        simulation.run(until: .zero + .seconds(10) - .microseconds(1))
        let old = try #require(simulation.establishedLeader)
        let oldEpoch = simulation.backend(old)!.currentEpoch
        let beforeCut = simulation.backend(old)!.log.lastZxid
        simulation.run(until: .zero + .milliseconds(10_300))
        let proposedAfter = simulation.backend(old)!.log.entries.filter { $0.zxid > beforeCut }
        #expect(proposedAfter.count > 0, "the old leader went on proposing")
        let result = simulation.run()
        checker.checkAcknowledged(result.history)
        #expect(checker.failures.isEmpty, "\(checker.failures.joined(separator: "\n"))")
        #expect(!checker.delivered.contains { $0.zxid.epoch == oldEpoch && $0.zxid > beforeCut }, "no proposal of the cut-off leader commits")
        #expect(checker.leaders.keys.contains { $0 > oldEpoch }, "a leader of a later epoch in the majority")
        // On the heal it is rolled back: TRUNC, or a SNAP when it is older than the new leader's window.
        let rejoin = simulation.notes("sync").filter { $0.time > .zero + .seconds(20) && $0.event.detail.contains(" to \(old) ") }
        #expect(!rejoin.isEmpty && rejoin.allSatisfy { !$0.event.detail.hasPrefix("DIFF") }, "\(rejoin.map(\.event.detail))")
        #expect(!simulation.storage(old).durable.entries.contains { $0.zxid.epoch == oldEpoch && $0.zxid > beforeCut })
        #expect(Set(result.finalStates.values).count == 1)
    }

    /// `flaky`: 20% loss, duplicates and reordering; with read=sync no read is stale, nothing
    /// acknowledged is lost, replicas agree.
    @Test(arguments: seeds)
    func flakyNetworkWithSyncReads(seed: UInt64) throws {
        let (_, result, checker) = try Self.run("flaky.json", "zab[read=sync]", seed: seed)
        #expect(checker.failures.isEmpty, "\(checker.failures.joined(separator: "\n"))")
        #expect(StaleReads.find(in: result.history).isEmpty)
        #expect(result.history.filter(Self.isOK).count > 1_000, "still available")
        #expect(Set(result.finalStates.values).count == 1)
    }

    /// `crash-recover`: a majority crashes together and loses unsynced data; nothing acknowledged is lost.
    @Test(arguments: seeds)
    func majorityCrashLosesNothingAcknowledged(seed: UInt64) throws {
        let (_, result, checker) = try Self.run("crash-recover.json", seed: seed)
        #expect(checker.failures.isEmpty, "\(checker.failures.joined(separator: "\n"))")
        let down = (Instant.zero + .milliseconds(10_100))..<(Instant.zero + .seconds(12))
        #expect(!result.history.contains { !$0.command.isRead && Self.isOK($0) && down.contains($0.complete!) }, "no write commits without a quorum")
        #expect(result.history.contains { !$0.command.isRead && Self.isOK($0) && $0.invoke > .zero + .seconds(13) }, "available again")
        #expect(Set(result.finalStates.values).count == 1)
    }

    /// `two-dc`: the data centre with three nodes stays available, the one with two does not.
    @Test(arguments: seeds)
    func twoDataCentres(seed: UInt64) throws {
        let (_, result, checker) = try Self.run("two-dc.json", seed: seed)
        #expect(checker.failures.isEmpty, "\(checker.failures.joined(separator: "\n"))")
        let cut = (Instant.zero + .seconds(11))..<(Instant.zero + .seconds(20))
        let writes = result.history.filter { !$0.command.isRead && cut.contains($0.invoke) }
        // Writes still pending at the heal may complete after it.
        #expect(!writes.contains { $0.node.rawValue >= 4 && Self.isOK($0) && $0.complete! < cut.upperBound }, "DC B (n4, n5) cannot write")
        #expect(writes.filter { $0.node.rawValue <= 3 && Self.isOK($0) }.count > 100, "DC A (n1–n3) can")
    }
}
