import ConsensusCore
import Simulator
import Storage
import Testing
import Unreplicated

/// `storage.engine: file`: nodes run on `FileStorage` over a simulated disk, so the write-ahead
/// log's recovery meets the simulator's crashes and the disk's faults.
@Suite struct FileEngineTests {
    /// Appends only, so that a lost write is visible in the final state; n1 (the unreplicated
    /// server) crashes at 1 s and restarts at 1.5 s.
    func config(seed: UInt64 = 1, faults: DiskFaults = DiskFaults()) -> SimulationConfig {
        var config = SimulationConfig(nodes: 3, seed: seed, duration: .seconds(3), quiescence: .milliseconds(500))
        config.network = LinkProfile(latency: .exponential(minimum: .microseconds(500), mean: .milliseconds(1)))
        config.workload.mix = .init(get: 0, put: 0, append: 1, cas: 0, delete: 0)
        config.storage = StorageModel(engine: .file, faults: faults)
        config.faults = [FaultStep(at: .zero + .seconds(1), .crash(.id(NodeID(1)))), FaultStep(at: .zero + .milliseconds(1_500), .restart(.affected))]
        return config
    }

    /// Acknowledged appends missing from the server's final value.
    func lostAppends(_ result: SimulationResult) -> [HistoryOperation] {
        let final = result.finalStates[NodeID(1)].map { $0.values.joined() } ?? ""
        return result.history.filter { $0.outcome == .ok(.done) && !final.contains($0.command.writtenValue!) }
    }

    func events(_ result: SimulationResult, on node: NodeID = NodeID(1)) -> [SimulationEvent] {
        result.events.filter { $0.node == node }.map(\.event)
    }

    @Test func withoutFaultsTheFileEngineBehavesAsTheMemory() {
        var memory = config()
        memory.storage = StorageModel()
        let onMemory = Simulation<Unreplicated>(config: memory).run(), onFiles = Simulation<Unreplicated>(config: config()).run()
        #expect(onFiles.history == onMemory.history)
        #expect(onFiles.events == onMemory.events)
        #expect(onFiles.finalStates == onMemory.finalStates)
        #expect(events(onFiles).contains { if case .restart(let entries, _) = $0 { entries > 0 } else { false } }, "the restart recovered the log from its files")
    }

    /// A crash with every unsynced tail torn: recovery cuts the torn record, and nothing
    /// acknowledged is lost (it was synced before it was acknowledged).
    @Test func aTornTailIsRepairedAndLosesNothingAcknowledged() {
        var repaired = 0
        for seed in UInt64(1)...6 {
            let result = Simulation<Unreplicated>(config: config(seed: seed, faults: DiskFaults(tornWrite: 1))).run()
            repaired += events(result).count { if case .tornTailRepaired = $0 { true } else { false } }
            #expect(lostAppends(result).isEmpty, "seed \(seed)")
            #expect(result.finalStates[NodeID(1)] != nil, "seed \(seed): the server restarted")
        }
        #expect(repaired > 0, "some crash tore a record that recovery had to cut")
    }

    /// A bit flipped in a synced record: recovery refuses the log, naming the file and offset, and
    /// the node stays down rather than start without acknowledged data. A flip in the very last
    /// record cannot be told from a torn write; it is cut, and the restart says the disk's damage
    /// went unnoticed.
    @Test func aCorruptRecordStopsTheNodeWithAClearEvent() {
        var refused = 0
        for seed in UInt64(1)...6 {
            var damaged = config(seed: seed)
            damaged.faults.insert(FaultStep(at: .zero + .milliseconds(900), .disk(.id(NodeID(1)), .bitFlip)), at: 0)
            let result = Simulation<Unreplicated>(config: damaged).run()
            let afterCrash = events(result).drop { !isCrash($0) }
            let reasons = afterCrash.compactMap { if case .restartFailed(let reason) = $0 { reason } else { nil } }
            if let reason = reasons.first {
                refused += 1
                #expect(reason.hasPrefix("corrupt log record in node/wal-") && reason.contains(" at offset "), "\(reason)")
                #expect(result.finalStates[NodeID(1)] == nil, "seed \(seed): the node stays down")
            } else {
                #expect(afterCrash.contains { if case .diskDamageUnnoticed(let damage) = $0 { damage.bitFlips == 1 } else { false } }, "seed \(seed)")
            }
        }
        #expect(refused > 0)
    }

    /// Every sync loses its bytes while reporting success, and nothing follows them: recovery finds
    /// a log that ends cleanly and cannot know. The restart says so, and the loss is visible.
    @Test func aDiskThatLiesAboutSyncsLosesAcknowledgedWritesVisibly() {
        let result = Simulation<Unreplicated>(config: config(faults: DiskFaults(lostWrite: 1))).run()
        #expect(events(result).contains { if case .diskDamageUnnoticed(let damage) = $0 { damage.lostWrites > 0 } else { false } })
        #expect(!lostAppends(result).isEmpty)
    }

    /// A slow sync holds back the outputs waiting for it: acknowledgements come later.
    @Test func slowSyncsDelayAcknowledgements() {
        func medianLatency(_ faults: DiskFaults) -> TimeSpan {
            var plain = config(faults: faults)
            plain.faults = []
            let latencies = Simulation<Unreplicated>(config: plain).run().history.compactMap { op in op.complete.map { $0 - op.invoke } }.sorted()
            return latencies[latencies.count / 2]
        }
        let normal = medianLatency(DiskFaults()), slow = medianLatency(DiskFaults(slowSync: 1, slowSyncFactor: 30))
        #expect(normal + .milliseconds(2) < slow, "\(normal) vs \(slow)")
    }

    /// A nemesis or scenario `disk` step reaches the node's own disk: the lost write is armed and
    /// spent by that node's next sync.
    @Test func aDiskFaultReachesTheNodesDisk() {
        var damaged = config()
        damaged.faults = [FaultStep(at: .zero + .milliseconds(900), .disk(.id(NodeID(1)), .lostWrite))]
        let simulation = Simulation<Unreplicated>(config: damaged)
        simulation.run(until: .zero + .milliseconds(899))
        #expect(simulation.disk(NodeID(1))?.injected.lostWrites == 0)
        simulation.run(until: .zero + .milliseconds(950))
        #expect(simulation.disk(NodeID(1))?.injected.lostWrites == 1)
        #expect(simulation.disk(NodeID(2))?.injected.total == 0)
    }

    func isCrash(_ event: SimulationEvent) -> Bool {
        if case .crash = event { true } else { false }
    }
}
