import AtomicCommit
import ConformanceSuite
import ConsensusCore
import Simulator
import Testing
import ThreePhaseCommit

@Suite struct ThreePhaseCommitTests {
    // MARK: Conformance

    /// 3PC promises less than 2PC. Its participants decide by timeout (or among themselves, with
    /// the termination protocol) when the coordinator is silent, so partitions, one-way cuts,
    /// pauses and lossy bursts can make two sides decide differently: atomicity, convergence,
    /// linearizability and `invariantsHold` (the participants report their conflicting decisions)
    /// are not promised there — and neither is durability. A write is answered only once every
    /// participant logged PreCommit, and from there every rule commits it; but a later write that
    /// its coordinator aborted (and answered as aborted) can commit on the pre-committed side, and
    /// where that side is a majority its value replaces every acknowledged one
    /// (`LabTests.HuntTests.threePhaseCommitIsNotJudgedOnDurabilityWhereLinksFail`). So durability
    /// is asserted where no link fails: duplicated, reordered and lost messages that re-sends cover
    /// (`exactly-once`), and crashes of every node and of the leader (`crash-restart`); the random
    /// sweeps, all of whose nemeses cut links, promise nothing for 3PC (`Promises.made(by:…)`).
    /// What 3PC keeps under crashes alone is asserted by the crash sweeps below. The variant joins
    /// under `CONLAB_FULL=1` (its own sweeps below run by default).
    @Test(arguments: Support.labels("3pc", full: ["3pc[termination=true]"]))
    func conformance(label: String) {
        let failures = Conformance.determinism(backend: label) + Conformance.exactlyOnce(backend: label, promises: .durable)
            + Conformance.crashRestart(backend: label, promises: .durable)
        #expect(failures.isEmpty, "\(failures.map(\.description).joined(separator: "\n"))")
    }

    // MARK: Cost

    /// CANCOMMIT, YES, PRECOMMIT, PRECOMMIT_ACK, DOCOMMIT and ACK to and from each of the N−1
    /// other nodes: 6(N−1) messages per committed write, and the client waits two round trips (the
    /// decision follows the PreCommit acknowledgements); the final acknowledgements take a third.
    @Test(arguments: [3, 5])
    func sixMessagesPerParticipantAndTwoRoundTripsToAnswer(nodes: Int) {
        FaultRows.cost(ThreePhaseCommit.self, nodes: nodes, messages: 6 * (nodes - 1), roundTrips: 2)
    }

    // MARK: Crashes only

    /// The seeds' timeout rules on a reliable network with one crash at a time (any node, the
    /// coordinator of some transaction included, restarted after 0.2–1.5 s): every node decides
    /// every transaction the same way, and the replicas agree.
    @Test func atomicUnderOneCrashAtATime() {
        for seed in Support.seeds(default: 8, full: 100) {
            var config = SimulationConfig(nodes: 5, seed: seed, duration: .seconds(6), quiescence: .seconds(3))
            config.workload.keys = 4
            var random = DeterministicRandom(seed: seed, label: "single-crashes")
            var time = Instant.zero + random.duration(in: .milliseconds(200)...(.seconds(1)))
            while time < .seconds(5.5) {
                let node = NodeID(random.uniform(1...5))
                config.faults.append(FaultStep(at: time, .crash(.id(node))))
                time += random.duration(in: .milliseconds(200)...(.milliseconds(1_500)))
                config.faults.append(FaultStep(at: time, .restart(.id(node))))
                time += random.duration(in: .milliseconds(100)...(.seconds(1)))
            }
            let simulation = Simulation<ThreePhaseCommit>(config: config)
            let result = simulation.run()
            Support.expectSafe(simulation, result, "seed \(seed) (replay: CONLAB_SEED=\(seed) swift test --filter atomicUnderOneCrashAtATime)")
        }
    }

    /// Skeen's termination protocol on a reliable network, with a minority or a majority crashing
    /// at once: still atomic — the survivors' new coordinator commits exactly when someone may have.
    @Test func terminationAtomicUnderSimultaneousCrashes() {
        var options = ThreePhaseCommit.Options()
        options.termination = true
        for seed in Support.seeds(default: 8, full: 100) {
            var config = SimulationConfig(nodes: 5, seed: seed, duration: .seconds(6), quiescence: .seconds(3))
            config.workload.keys = 4
            config.faults = Nemesis(faults: [.crash, .crashMajority], interval: .milliseconds(200)...(.seconds(1)),
                                    length: .milliseconds(200)...(.milliseconds(1_500))).schedule(seed: seed, nodes: 5, duration: config.duration)
            let simulation = Simulation<ThreePhaseCommit>(config: config, options: options)
            let result = simulation.run()
            Support.expectSafe(simulation, result, "seed \(seed) (replay: CONLAB_SEED=\(seed) swift test --filter terminationAtomicUnderSimultaneousCrashes)")
        }
    }

    // MARK: FAULTS.md rows

    /// `coordinator-crash-after-prepare`: the coordinator crashes with every vote in, before any
    /// PreCommit leaves. The participants do not block: within their PreCommit timeout (plus, with
    /// the termination protocol, one round of asking) they abort and release the key, so its reads
    /// are served during the outage; the restarted coordinator adopts the abort. Nothing diverges.
    @Test(arguments: ["3pc", "3pc[termination=true]"])
    func coordinatorCrashAfterPrepareParticipantsAbort(label: String) throws {
        let scenario = try Support.scenario("coordinator-crash-after-prepare")
        for seed: UInt64 in label == "3pc" ? [1, 2] : [3] {
            let simulation = try Support.simulation(ThreePhaseCommit.self, scenario, label: label, seed: seed)
            let crash = try #require(Support.runUntilCrash(simulation, by: .seconds(8)), "seed \(seed): the trigger never fired")
            let coordinator = try #require(crash.node)
            let participants = simulation.cluster.filter { $0 != coordinator }
            var stranded: [TransactionID: String] = [:]
            for node in participants {
                for (transaction, state) in try #require(simulation.backend(node)).core.active where transaction.coordinator == coordinator {
                    stranded[transaction] = state.request.command.key
                }
            }
            #expect(!stranded.isEmpty, "seed \(seed): the crash should strand a transaction")
            simulation.run(until: crash.time + .milliseconds(600))
            for node in participants {
                let core = try #require(simulation.backend(node)).core
                for (transaction, key) in stranded.sorted(by: { $0.key < $1.key }) {
                    #expect(core.decisions[transaction] == false && core.locks.holder(of: key) != transaction,
                            "seed \(seed): \(node) should have aborted \(transaction) and released \(key)")
                }
            }
            let result = simulation.run()
            let outage = crash.time + .milliseconds(600) ..< .seconds(14)
            for key in Set(stranded.values).sorted() {
                let reads = result.history.filter { $0.command == .get(key: key) && outage.contains($0.invoke) && participants.contains($0.node) }
                #expect(Support.succeeded(reads) == reads.count && !reads.isEmpty, "seed \(seed): reads of \(key) are served during the outage")
            }
            for transaction in stranded.keys {
                #expect(result.transactions[transaction.rawValue] == Dictionary(uniqueKeysWithValues: simulation.cluster.map { ($0, false) }),
                        "seed \(seed): \(transaction) must abort everywhere, the coordinator included once it is back")
            }
            Support.expectSafe(simulation, result, "\(label) seed \(seed)")
        }
    }

    /// `3pc-partition-precommit`, the seeds' example: every participant got PreCommit, n1 fails
    /// it, the coordinator n2 decides ABORT, and the partition n1–n3 | n4–n5 drops it on its way
    /// to n4 and n5. They time out pre-committed and commit (with the termination protocol, n4 is
    /// elected on their side and commits) while n1–n3 abort: the transaction is decided both ways
    /// and the replicas diverge on its key.
    @Test(arguments: ["3pc", "3pc[termination=true]"])
    func partitionAfterPreCommitDiverges(label: String) throws {
        let scenario = try Support.scenario("3pc-partition-precommit")
        for seed: UInt64 in [1, 2, 3] {
            let simulation = try Support.simulation(ThreePhaseCommit.self, scenario, label: label, seed: seed)
            let result = simulation.run()
            let conflicting = Support.conflictingDecisions(result)
            try #require(conflicting.count == 1, "seed \(seed): expected one transaction decided both ways, found \(conflicting)")
            let transaction = conflicting[0]
            #expect(transaction >> 48 == 2, "seed \(seed): n2 coordinates it")
            let decisions = try #require(result.transactions[transaction])
            #expect(decisions == [NodeID(1): false, NodeID(2): false, NodeID(3): false, NodeID(4): true, NodeID(5): true], "seed \(seed): \(decisions)")
            let log = simulation.storage(NodeID(4)).durable.entries
            let key = try #require(log.lazy.compactMap { if case .prepared(let id, let request, _) = $0, id.rawValue == transaction { request.command.key } else { nil } }.first)
            #expect(Support.divergentKeys(result).contains(key), "seed \(seed): replicas should differ on \(key)")
        }
    }

    /// `leader-crash`: writes fail while a node is down; crashes alone leave 3PC atomic.
    @Test func leaderCrashWritesUnavailableAndSafe() throws {
        let (simulation, result) = try FaultRows.writesUnavailable(ThreePhaseCommit.self, "leader-crash", label: "3pc")
        Support.expectSafe(simulation, result, "leader-crash")
    }

    /// `minority-partition`, `leader-isolated`, `two-dc`: writes fail while nodes are cut off.
    /// Divergence is possible (a cut right after PreCommit reached some participants) and not asserted.
    @Test(arguments: ["minority-partition", "leader-isolated", "two-dc"])
    func writesUnavailableUnderPartitions(scenarioName: String) throws {
        _ = try FaultRows.writesUnavailable(ThreePhaseCommit.self, scenarioName, label: "3pc")
    }

    @Test func baselineConflictingWritesAbort() throws {
        try FaultRows.baseline(ThreePhaseCommit.self, label: "3pc")
    }

    /// `flaky`: aborts are re-sent until acknowledged and a pre-committed participant waits far
    /// longer than the coordinator's acknowledgement timeout, so loss alone does not split a decision.
    @Test func flakyAbortsMoreAndStaysAtomic() throws {
        try FaultRows.flaky(ThreePhaseCommit.self, label: "3pc")
    }

    @Test(arguments: ["3pc", "3pc[termination=true]"])
    func crashRecoverResolvesInDoubtTransactionsFromTheLog(label: String) throws {
        try FaultRows.crashRecover(ThreePhaseCommit.self, label: label, seeds: [1])
    }
}
