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
    /// coordinator is back (in-doubt participants then learn the outcome), and atomic. It pays with
    /// availability instead, which the scenario tests below measure.
    @Test(arguments: ["2pc", "2pc[cooperative=true]"])
    func conformance(label: String) {
        let failures = Conformance.run(backend: label, promises: .all, randomSeeds: 8)
        #expect(failures.isEmpty, "\(failures.map(\.description).joined(separator: "\n"))")
    }

    // MARK: Cost

    /// PREPARE, YES, COMMIT and ACK to and from each of the N−1 other nodes: 4(N−1) messages per
    /// committed write. The client is answered when the decision is logged, one round trip after it
    /// wrote; the acknowledgements take a second round trip.
    @Test(arguments: [3, 5])
    func fourMessagesPerParticipantAndOneRoundTripToAnswer(nodes: Int) {
        let latency = Duration.milliseconds(5)
        var config = SimulationConfig(nodes: nodes, seed: 1, duration: .seconds(3), quiescence: .seconds(1))
        config.workload.clientsPerNode = 0
        config.network = LinkProfile(latency: .fixed(latency))
        let simulation = Simulation<TwoPhaseCommit>(config: config)
        var writes: [Int] = []
        for index in 0..<10 {
            writes.append(simulation.submit(.put(key: "k\(index % 3)", value: "v\(index)"), via: NodeID(index % nodes + 1)))
            simulation.run(for: .milliseconds(50))
        }
        #expect(simulation.counters.messagesSent == 4 * (nodes - 1) * writes.count)
        for index in writes {
            let operation = simulation.history[index]
            #expect(operation.outcome == .ok(.done))
            let elapsed = operation.complete! - operation.invoke
            #expect(elapsed >= latency * 2 && elapsed < latency * 2 + .milliseconds(1), "answered after \(elapsed)")
        }
        #expect(simulation.cluster.allSatisfy { simulation.backend($0)!.core.active.isEmpty }, "every transaction acknowledged and ended")
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
        for seed: UInt64 in [1, 2] {
            let simulation = try Support.simulation(TwoPhaseCommit.self, scenario, label: label, seed: seed)
            simulation.run(until: .seconds(8))
            let crash = try #require(simulation.events.first { $0.kind == "crash" }, "seed \(seed): the trigger never fired")
            let coordinator = try #require(crash.node)
            // The decision it logged and never sent.
            let log = simulation.storage(coordinator).durable.entries
            guard case .decided(let blocked, true) = log.last else { Issue.record("seed \(seed): last record \(String(describing: log.last))"); continue }
            let request = try #require(log.lazy.compactMap { if case .prepared(blocked, let request) = $0 { request } else { nil } }.first)
            let key = request.command.key
            let participants = simulation.cluster.filter { $0 != coordinator }
            for probe in [Instant.seconds(8), .seconds(14.9)] {
                simulation.run(until: probe)
                for node in participants {
                    let core = try #require(simulation.backend(node)).core
                    #expect(core.active[blocked]?.state == .voted && core.locks.holder(of: key) == blocked,
                            "seed \(seed): \(node) should be in doubt about \(blocked) at \(probe)")
                }
            }
            let result = simulation.run()
            let outage = crash.time + .milliseconds(100) ..< .seconds(14)
            #expect(Support.succeeded(Support.operations(result, writes: true, invokedIn: outage)) == 0, "seed \(seed): a write committed without the coordinator")
            let blockedReads = result.history.filter { $0.command == .get(key: key) && outage.contains($0.invoke) && participants.contains($0.node) }
            #expect(!blockedReads.isEmpty && Support.succeeded(blockedReads) == 0, "seed \(seed): reads of \(key) should wait for the decision")
            let otherReads = Support.operations(result, writes: false, invokedIn: outage, at: participants).filter { $0.command.key != key }
            #expect(Support.succeeded(otherReads) > otherReads.count * 9 / 10, "seed \(seed): reads of other keys are served")
            #expect(result.transactions[blocked.rawValue] == Dictionary(uniqueKeysWithValues: simulation.cluster.map { ($0, true) }),
                    "seed \(seed): \(blocked) must commit everywhere once the coordinator is back")
            Support.expectSafe(simulation, result, "\(label) seed \(seed)")
        }
    }

    /// `leader-crash`, `minority-partition`, `leader-isolated`, `two-dc`: a write needs every node,
    /// so no write commits while any node is down or cut off; reads are still served locally; writes
    /// commit again once the fault is over.
    @Test(arguments: ["leader-crash", "minority-partition", "leader-isolated", "two-dc"])
    func writesUnavailableWhileAnyNodeIsOut(scenarioName: String) throws {
        let scenario = try Support.scenario(scenarioName)
        let simulation = try Support.simulation(TwoPhaseCommit.self, scenario, label: "2pc", seed: 1)
        let result = simulation.run()
        let fault = Instant.seconds(10.1) ..< .seconds(19)
        let writes = Support.operations(result, writes: true, invokedIn: fault)
        #expect(Support.succeeded(writes) == 0, "\(scenarioName): writes committed during the fault")
        #expect(Support.aborted(writes) > writes.count / 2, "\(scenarioName): writes should abort (every vote is needed)")
        #expect(Support.succeeded(Support.operations(result, writes: false, invokedIn: fault)) > 0, "\(scenarioName): reads are local")
        #expect(Support.succeeded(Support.operations(result, writes: true, invokedIn: .seconds(21) ..< .seconds(29))) > 0,
                "\(scenarioName): writes resume after the fault")
        Support.expectSafe(simulation, result, scenarioName)
    }

    /// `baseline`: everything is served; writes that race for a key abort (no-wait locking), and the
    /// replicas agree.
    @Test func baselineConflictingWritesAbort() throws {
        let simulation = try Support.simulation(TwoPhaseCommit.self, try Support.scenario("baseline"), label: "2pc", seed: 1)
        let result = simulation.run()
        let all = Instant.zero ..< result.workloadEnd
        let reads = Support.operations(result, writes: false, invokedIn: all), writes = Support.operations(result, writes: true, invokedIn: all)
        #expect(Support.succeeded(reads) == reads.count, "every read is served")
        #expect(Support.aborted(writes) > 0 && Support.aborted(writes) < writes.count / 2, "some racing writes abort: \(Support.aborted(writes)) of \(writes.count)")
        #expect(!result.history.contains { $0.outcome == .indeterminate })
        Support.expectSafe(simulation, result, "baseline")
    }

    /// `flaky` (20% loss): more writes abort than on a healthy network (a vote that does not get
    /// through in time aborts the transaction), and atomicity holds.
    @Test func flakyAbortsMoreAndStaysAtomic() throws {
        func abortRate(_ name: String) throws -> Double {
            let simulation = try Support.simulation(TwoPhaseCommit.self, try Support.scenario(name), label: "2pc", seed: 1)
            let result = simulation.run()
            Support.expectSafe(simulation, result, name)
            let writes = Support.operations(result, writes: true, invokedIn: .zero ..< result.workloadEnd)
            return Double(Support.aborted(writes)) / Double(writes.count)
        }
        let flaky = try abortRate("flaky"), baseline = try abortRate("baseline")
        #expect(flaky > baseline * 1.5, "aborts: flaky \(flaky), baseline \(baseline)")
    }

    /// `crash-recover`: a majority crashes together. Transactions they had voted YES on and not
    /// learned the outcome of are in doubt in their logs; after the restart each is resolved from
    /// the log (the coordinator re-sends or presumes abort; participants ask), consistently.
    @Test func crashRecoverResolvesInDoubtTransactionsFromTheLog() throws {
        let scenario = try Support.scenario("crash-recover")
        for seed: UInt64 in [1, 2] {
            let simulation = try Support.simulation(TwoPhaseCommit.self, scenario, label: "2pc", seed: seed)
            simulation.run(until: .seconds(10.001))
            var inDoubt: [(NodeID, TransactionID)] = []
            for node in (1...3).map(NodeID.init) {
                #expect(!simulation.isUp(node))
                let log = simulation.storage(node).durable.entries
                let decided = Set(log.compactMap { if case .decided(let transaction, _) = $0 { transaction } else { nil } })
                for case .prepared(let transaction, _) in log where !decided.contains(transaction) { inDoubt.append((node, transaction)) }
            }
            #expect(!inDoubt.isEmpty, "seed \(seed): the crash should leave transactions in doubt")
            let result = simulation.run()
            for (node, transaction) in inDoubt {
                let core = try #require(simulation.backend(node)).core
                #expect(core.active[transaction] == nil && core.decisions[transaction] != nil, "seed \(seed): \(transaction) still in doubt at \(node)")
            }
            Support.expectSafe(simulation, result, "crash-recover seed \(seed)")
        }
    }
}
