import AtomicCommit
import ConformanceSuite
import ConsensusCore
import Simulator
import Testing
import TwoPhaseCommit

@Suite struct TwoPhaseCommitTests {
    // MARK: Conformance

    /// 2PC makes every promise the suite knows: linearizable (writes apply under locks held until
    /// the decision, reads wait while a key is undecided), durable (a write is answered only after
    /// every replica logged its YES and the coordinator its COMMIT), convergent once every
    /// coordinator is back (in-doubt participants then learn the outcome), and atomic: no
    /// participant is ever told a decision that contradicts its own (`invariantsHold`). It pays with
    /// availability instead, which the scenario tests below measure.
    /// The variant joins under `CONLAB_FULL=1` (its own sweeps below run by default).
    @Test(arguments: Support.labels("2pc", full: ["2pc[cooperative=true]"]))
    func conformance(label: String) {
        let failures = Conformance.run(backend: label, promises: .all, randomSeeds: 4)
        #expect(failures.isEmpty, "\(failures.map(\.description).joined(separator: "\n"))")
    }

    // MARK: Cost

    /// PREPARE, YES, COMMIT and ACK to and from each of the N−1 other nodes: 4(N−1) messages per
    /// committed write. The client is answered when the decision is logged, one round trip after it
    /// wrote; the acknowledgements take a second round trip.
    @Test(arguments: [3, 5])
    func fourMessagesPerParticipantAndOneRoundTripToAnswer(nodes: Int) {
        FaultRows.cost(TwoPhaseCommit.self, nodes: nodes, messages: 4 * (nodes - 1), roundTrips: 1)
    }

    /// Gray & Lamport's count ("Consensus on Transaction Commit", 2006, §4): in the failure-free
    /// case 2PC takes 3N−1 messages and 4 message delays, 3N−3 messages when the coordinator runs
    /// on one of the participants (no hop from the initiating participant to it), as here: N−1
    /// PREPAREs, N−1 YES votes and N−1 COMMITs per transaction, and every participant has the
    /// outcome 3 delays after the coordinator took the write. Our N−1 ACKs come on top: they only
    /// let the coordinator forget the transaction, and Gray & Lamport leave them out.
    @Test(arguments: [3, 5])
    func grayAndLamportsMessageCountAndDelays(nodes: Int) {
        let latency = TimeSpan.milliseconds(5)
        var config = SimulationConfig(nodes: nodes, seed: 1, duration: .seconds(3), quiescence: .seconds(1))
        config.workload.clientsPerNode = 0
        config.network = LinkProfile(latency: .fixed(latency))
        let simulation = Simulation<TwoPhaseCommit>(config: config)
        var sent: [String: Int] = [:], lastCommitArrival = Instant.zero
        simulation.afterSend = { _, _, message, departure in
            sent[message.kind.rawValue, default: 0] += 1
            if message.kind.rawValue == "COMMIT" { lastCommitArrival = max(lastCommitArrival, departure + latency) }
        }
        let writes = 10
        for index in 0..<writes {
            lastCommitArrival = .zero
            let start = simulation.now
            simulation.submit(.put(key: "k\(index % 3)", value: "v\(index)"), via: NodeID(index % nodes + 1))
            simulation.run(for: .milliseconds(50))
            let delays = Double((lastCommitArrival - start).microseconds) / Double(latency.microseconds)
            #expect(delays >= 3 && delays < 3.2, "every participant has the outcome after 3 message delays, not \(delays)")
        }
        let perTransaction = (sent["PREPARE", default: 0] + sent["YES", default: 0] + sent["COMMIT", default: 0]) / writes
        #expect(perTransaction == 3 * nodes - 3, "Gray & Lamport's 3N−3 with the coordinator on a participant: \(sent)")
        #expect(sent["ACK", default: 0] == (nodes - 1) * writes, "and N−1 acknowledgements to forget it")
        #expect(sent.keys.sorted() == ["ACK", "COMMIT", "PREPARE", "YES"], "nothing else in the failure-free case: \(sent)")
    }

    // MARK: Safety under random faults

    /// Loss, duplicates, reordering, partitions, pauses and crashes (a minority or a majority at
    /// once, losing nothing synced): no transaction is ever decided both ways, every committed write
    /// reaches every replica, and replicas apply each key's writes in one order.
    @Test(arguments: [false, true])
    func atomicUnderLossPartitionsAndCrashes(cooperative: Bool) {
        var options = TwoPhaseCommit.Options()
        options.cooperative = cooperative
        for seed in Support.seeds(default: 10, full: 200) {
            var config = SimulationConfig(nodes: 5, seed: seed, duration: .seconds(6), quiescence: .seconds(3))
            config.network = LinkProfile(latency: .uniform(.microseconds(500)...(.milliseconds(3))), loss: 0.05, duplicate: 0.05, reorder: 0.1)
            config.workload.keys = 4
            config.faults = Nemesis(faults: [.crash, .crashMajority, .partition, .oneWay, .pause, .flaky],
                                    interval: .milliseconds(200)...(.seconds(1)), length: .milliseconds(300)...(.seconds(2)))
                .schedule(seed: seed, nodes: 5, duration: config.duration)
            let simulation = Simulation<TwoPhaseCommit>(config: config, options: options)
            let result = simulation.run()
            Support.expectSafe(simulation, result, "seed \(seed), cooperative \(cooperative) (replay: CONLAB_SEED=\(seed) swift test --filter atomicUnderLossPartitionsAndCrashes)")
            #expect(result.transactions.values.contains { $0.values.contains(true) }, "seed \(seed): nothing committed")
        }
    }

    // MARK: FAULTS.md rows

    /// `coordinator-crash-after-prepare`: the coordinator has logged COMMIT and crashes before
    /// sending it. Every participant stays in doubt, holding the key's lock, for the whole outage
    /// (cooperative termination does not help: everyone voted YES, nobody knows); writes and reads
    /// of that key fail or time out; once the coordinator is back it re-sends COMMIT and every
    /// node commits.
    @Test(arguments: ["2pc", "2pc[cooperative=true]"])
    func coordinatorCrashAfterPrepareBlocksUntilItReturns(label: String) throws {
        let scenario = try Support.scenario("coordinator-crash-after-prepare")
        for seed: UInt64 in label == "2pc" ? [1, 2] : [3] {
            let simulation = try Support.simulation(TwoPhaseCommit.self, scenario, label: label, seed: seed)
            let crash = try #require(Support.runUntilCrash(simulation, by: .seconds(8)), "seed \(seed): the trigger never fired")
            let coordinator = try #require(crash.node)
            // The decision it logged and never sent.
            let log = simulation.storage(coordinator).durable.entries
            guard case .decided(let blocked, true) = log.last else { Issue.record("seed \(seed): last record \(String(describing: log.last))"); continue }
            let request = try #require(log.lazy.compactMap { if case .prepared(blocked, let request, _) = $0 { request } else { nil } }.first)
            let key = request.command.key
            let participants = simulation.cluster.filter { $0 != coordinator }
            for probe in [Instant.seconds(8), .seconds(14.9)] {
                simulation.run(until: probe)
                for node in participants {
                    let core = try #require(simulation.backend(node)).core
                    #expect(core.active[blocked]?.state == .voted && core.locks.holder(of: key) == blocked,
                            "seed \(seed): \(node) should be in doubt about \(blocked) at \(probe)")
                }
                #expect(participants.contains { simulation.backend($0)!.core.locks.parkedReads > 0 }, "seed \(seed): reads of \(key) wait")
            }
            let result = simulation.run()
            let outage = crash.time + .milliseconds(100) ..< .seconds(14)
            #expect(Support.succeeded(Support.operations(result, writes: true, invokedIn: outage)) == 0, "seed \(seed): a write committed without the coordinator")
            let blockedReads = result.history.filter { $0.command == .get(key: key) && outage.contains($0.invoke) && participants.contains($0.node) }
            #expect(!blockedReads.isEmpty && Support.succeeded(blockedReads) == 0, "seed \(seed): reads of \(key) should wait for the decision")
            let otherReads = Support.operations(result, writes: false, invokedIn: outage, at: participants).filter { $0.command.key != key }
            // Other keys are served, apart from reads that wait on the locks of writes which, needing
            // the crashed node, time out and abort.
            #expect(Support.succeeded(otherReads) > otherReads.count * 3 / 4, "seed \(seed): reads of other keys are served")
            #expect(result.transactions[blocked.rawValue] == Dictionary(uniqueKeysWithValues: simulation.cluster.map { ($0, true) }),
                    "seed \(seed): \(blocked) must commit everywhere once the coordinator is back")
            Support.expectSafe(simulation, result, "\(label) seed \(seed)")
        }
    }

    /// `leader-crash`, `minority-partition`, `leader-isolated`, `two-dc`: no write commits while a
    /// node is out (write-all), reads are served, and the replicas agree afterwards.
    @Test(arguments: ["leader-crash", "minority-partition", "leader-isolated", "two-dc"])
    func writesUnavailableWhileAnyNodeIsOut(scenarioName: String) throws {
        let (simulation, result) = try FaultRows.writesUnavailable(TwoPhaseCommit.self, scenarioName, label: "2pc")
        Support.expectSafe(simulation, result, scenarioName)
    }

    /// `bridge`, `majorities-ring`, `one-way`: unavailable for writes (but at a bridge node).
    @Test(arguments: ["bridge", "majorities-ring", "one-way"])
    func writesUnavailableUnderPartialPartitions(scenarioName: String) throws {
        try FaultRows.writesUnavailableUnlessConnectedToAll(TwoPhaseCommit.self, scenarioName, label: "2pc")
    }

    @Test func baselineConflictingWritesAbort() throws {
        try FaultRows.baseline(TwoPhaseCommit.self, label: "2pc")
    }

    /// `slow-follower` (from 5 s one node, n2, takes 50× the CPU time per input: 0.5 ms instead of
    /// 10 µs): every write needs that node's vote, so every write waits for it to process the
    /// PREPARE, behind whatever else it has queued. The median write gains part of the extra
    /// 0.49 ms (it is one of four parallel round trips, and the slowest of the four already set the
    /// pace), and the tail gains most, where votes queue at the slow node. (Raft commits on a
    /// majority without it: `RaftTests.FaultRowTests.slowFollower`.) Measured on seeds 1–5
    /// (`conlab run Experiments/slow-follower.json --seeds 1-5` against baseline, writes invoked
    /// from 6 s to 20 s): median +0.33–0.35 ms (+11–12%), p99 ×1.9–2.1; bounds: median ≥ +0.2 ms,
    /// p99 ≥ ×1.5.
    @Test func slowFollowerSlowsEveryWrite() throws {
        func writeLatencies(_ name: String, seed: UInt64) throws -> [TimeSpan] {
            let simulation = try Support.simulation(TwoPhaseCommit.self, try Support.scenario(name), label: "2pc", seed: seed)
            let result = simulation.run()
            Support.expectSafe(simulation, result, "2pc \(name) seed \(seed)")
            return Support.operations(result, writes: true, invokedIn: .seconds(6) ..< .seconds(20))
                .filter { $0.outcome == .ok(.done) }.map { $0.complete! - $0.invoke }.sorted()
        }
        for seed in Support.seeds(default: 1, full: 5) {
            let slow = try writeLatencies("slow-follower", seed: seed), healthy = try writeLatencies("baseline", seed: seed)
            let median = (slow[slow.count / 2], healthy[healthy.count / 2])
            let p99 = (slow[slow.count * 99 / 100], healthy[healthy.count * 99 / 100])
            #expect(median.0 >= median.1 + .microseconds(200), "seed \(seed): 2PC write median \(median.0) with a slow node, \(median.1) without")
            #expect(p99.0.microseconds * 2 >= p99.1.microseconds * 3, "seed \(seed): 2PC write p99 \(p99.0) with a slow node, \(p99.1) without")
        }
    }

    @Test(arguments: ["2pc", "2pc[cooperative=true]"])
    func crashRecoverResolvesInDoubtTransactionsFromTheLog(label: String) throws {
        try FaultRows.crashRecover(TwoPhaseCommit.self, label: label, seeds: [1])
    }
}

extension TwoPhaseCommitTests {
    /// `3pc-partition-precommit` under 2PC: n1 votes NO, the coordinator n2 aborts, and the
    /// partition drops the ABORT on its way to n4 and n5, which voted YES. They block in doubt,
    /// holding the key, until the partition heals at 6 s; then they ask, learn the abort, and
    /// nothing diverges. The run's in-doubt spans (from the `prepared` and `decided` events) say so.
    @Test func partitionThatSplits3PCBlocks2PC() throws {
        let scenario = try Support.scenario("3pc-partition-precommit")
        for seed: UInt64 in [1, 2, 3] {
            let simulation = try Support.simulation(TwoPhaseCommit.self, scenario, label: "2pc", seed: seed)
            simulation.run(until: .seconds(5))
            let stranded = simulation.backend(NodeID(4))!.core.active.values.filter { $0.id.coordinator == NodeID(2) && $0.state == .voted }
            try #require(!stranded.isEmpty, "seed \(seed): n4 should be in doubt about a transaction of n2")
            for transaction in stranded {
                for node in [NodeID(4), NodeID(5)] {
                    let core = simulation.backend(node)!.core
                    #expect(core.active[transaction.id]?.state == .voted && core.locks.holder(of: transaction.request.command.key) == transaction.id,
                            "seed \(seed): \(node) blocks on \(transaction.id)")
                }
            }
            let result = simulation.run()
            for transaction in stranded {
                #expect(result.transactions[transaction.id.rawValue]?[NodeID(4)] == false, "seed \(seed): \(transaction.id) aborts after the heal")
                for node in [NodeID(4), NodeID(5)] {
                    let span = result.inDoubt.first { $0.transaction == transaction.id.rawValue && $0.node == node }
                    #expect(span.map { $0.start < .seconds(5) && $0.end.map { $0 >= .seconds(6) } == true } == true,
                            "seed \(seed): \(node) in doubt about \(transaction.id) until the heal: \(String(describing: span))")
                }
            }
            Support.expectSafe(simulation, result, "seed \(seed)")
        }
    }
}
