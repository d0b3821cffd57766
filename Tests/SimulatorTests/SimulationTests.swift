import ConsensusCore
import Simulator
import Storage
import Testing
import Unreplicated

@Suite struct SimulationTests {
    func config(seed: UInt64 = 1) -> SimulationConfig {
        var config = SimulationConfig(nodes: 3, seed: seed, duration: .seconds(3), quiescence: .milliseconds(500))
        config.network = LinkProfile(latency: .exponential(minimum: .microseconds(500), mean: .milliseconds(1)), loss: 0.05, duplicate: 0.05, reorder: 0.1)
        config.faults = [FaultStep(at: .zero + .seconds(1), .crash(.id(NodeID(1)))), FaultStep(at: .zero + .milliseconds(1_500), .restart(.affected))]
        return config
    }

    @Test func aRunIsAPureFunctionOfItsSeed() {
        let a = Simulation<Unreplicated>(config: config()).run(), b = Simulation<Unreplicated>(config: config()).run()
        #expect(a.history == b.history)
        #expect(a.events == b.events)
        #expect(a.counters == b.counters)
        let c = Simulation<Unreplicated>(config: config(seed: 2)).run()
        #expect(a.history != c.history)
    }

    @Test func acknowledgedWritesAreLostOnlyWhenFsyncIsOff() {
        var unsafe = config()
        unsafe.network = LinkProfile(latency: .fixed(.milliseconds(1)))
        unsafe.storage = StorageModel(fsync: false, flushInterval: .seconds(10))
        unsafe.workload.mix = .init(get: 0, put: 0, append: 1, cas: 0, delete: 0)
        let result = Simulation<Unreplicated>(config: unsafe).run()
        let crash = result.events.first { $0.event.kind == "crash" }!
        #expect(crash.event != .crash(lostOperations: 0), "with fsync off, the crash loses the unflushed log")
        let acknowledgedBeforeCrash = result.history.filter { $0.complete.map { $0 < crash.time } ?? false && $0.outcome == .ok(.done) }
        let final = result.finalStates[NodeID(1)]!.values.joined()
        let lost = acknowledgedBeforeCrash.filter { !final.contains($0.command.writtenValue!) }
        #expect(!lost.isEmpty, "acknowledged appends lost: the unsafe mode must be visible")

        var safe = unsafe
        safe.storage = StorageModel(fsync: true)
        let kept = Simulation<Unreplicated>(config: safe).run()
        let finalSafe = kept.finalStates[NodeID(1)]!.values.joined()
        #expect(kept.history.filter { $0.outcome == .ok(.done) }.allSatisfy { finalSafe.contains($0.command.writtenValue!) })
    }

    /// With fsync on, a write is durable once its sync completes, and nothing the step computed
    /// leaves before that: a crash inside the sync loses the write and its acknowledgement
    /// together; a crash after it loses neither.
    @Test func aCrashDuringAnFsyncLosesTheWriteAndItsAcknowledgementTogether() {
        var slowDisk = SimulationConfig(nodes: 2, seed: 1, duration: .seconds(2), quiescence: .zero)
        slowDisk.workload.clientsPerNode = 0
        slowDisk.network = LinkProfile(latency: .fixed(.microseconds(100)))
        slowDisk.storage = StorageModel(fsync: true, syncLatency: .milliseconds(5))
        slowDisk.workload.retryInterval = .seconds(10)  // no retry to re-apply a lost write
        let server = NodeID(1)
        func crashAfter(_ delay: TimeSpan) -> (Simulation<Unreplicated>, Int, SimulationEvent) {
            let simulation = Simulation<Unreplicated>(config: slowDisk)
            simulation.run(for: .milliseconds(10))
            let write = simulation.submit(.put(key: "k", value: "v"), via: server)
            simulation.run(for: delay)
            simulation.apply(.crash(.id(server)))
            let crash = simulation.events.last { $0.event.kind == "crash" }!.event
            simulation.apply(.restart(.id(server)))
            simulation.run(for: .seconds(1))
            return (simulation, write, crash)
        }
        // 1 ms: the server has applied and logged the put, its disk is still syncing.
        let (during, lostWrite, lostDetail) = crashAfter(.milliseconds(1))
        #expect(lostDetail != .crash(lostOperations: 0), "\(lostDetail)")
        #expect(during.history[lostWrite].outcome != .ok(.done), "no acknowledgement escaped the crash")
        #expect(during.backend(server)?.appliedData?["k"] == nil, "the restarted server never had it")
        // 20 ms: synced and answered.
        let (after, keptWrite, keptDetail) = crashAfter(.milliseconds(20))
        #expect(keptDetail == .crash(lostOperations: 0), "\(keptDetail)")
        #expect(after.history[keptWrite].outcome == .ok(.done))
        #expect(after.backend(server)?.appliedData?["k"] == "v", "recovered from the synced log")

        // Two writes 1 ms apart: the disk syncs them one after the other (done at 5 and 10 ms). A
        // crash at 7 ms keeps the first, answered, and loses the second with its answer.
        let simulation = Simulation<Unreplicated>(config: slowDisk)
        simulation.run(for: .milliseconds(10))
        let first = simulation.submit(.put(key: "a", value: "1"), via: server)
        simulation.run(for: .milliseconds(1))
        let second = simulation.submit(.put(key: "b", value: "2"), via: server)
        simulation.run(for: .milliseconds(6))
        simulation.apply(.crash(.id(server)))
        simulation.apply(.restart(.id(server)))
        simulation.run(for: .seconds(1))
        #expect(simulation.history[first].outcome == .ok(.done) && simulation.history[second].outcome != .ok(.done))
        #expect(simulation.backend(server)?.appliedData?["a"] == "1" && simulation.backend(server)?.appliedData?["b"] == nil)
    }

    @Test func clientsTimeOutAsIndeterminateAndRetryUnderTheSameSequence() {
        var cut = SimulationConfig(nodes: 2, seed: 1, duration: .seconds(2), quiescence: .zero)
        cut.workload.clientsPerNode = 0
        let simulation = Simulation<Unreplicated>(config: cut)
        simulation.run(for: .milliseconds(10))
        simulation.apply(.partition([[.id(NodeID(1))], [.id(NodeID(2))]]))
        let blocked = simulation.submit(.put(key: "k", value: "v"), via: NodeID(2))
        let served = simulation.submit(.put(key: "k", value: "w"), via: NodeID(1))
        simulation.run(for: .milliseconds(1_500))
        #expect(simulation.history[blocked].outcome == .indeterminate)
        #expect(simulation.history[blocked].complete == nil)
        #expect(simulation.history[served].outcome == .ok(.done))
        // The blocked client retried every 200 ms: 5 attempts in its 1 s timeout, all from one sequence number.
        #expect(simulation.counters.clientMessages >= 7)
    }

    @Test func pausedNodesQueueTheirInputsAndCarryOn() {
        var quiet = SimulationConfig(nodes: 2, seed: 1, duration: .seconds(5), quiescence: .zero)
        quiet.workload.clientsPerNode = 0
        quiet.workload.timeout = .seconds(3)
        let simulation = Simulation<Unreplicated>(config: quiet)
        simulation.run(for: .milliseconds(1))
        simulation.apply(.pause(.id(NodeID(1))))
        let op = simulation.submit(.put(key: "k", value: "v"), via: NodeID(1))
        simulation.run(for: .milliseconds(500))
        #expect(simulation.history[op].complete == nil)
        simulation.apply(.resume(.affected))
        simulation.run(for: .milliseconds(100))
        #expect(simulation.history[op].outcome == .ok(.done))
        #expect(simulation.history[op].complete! - simulation.history[op].invoke >= .milliseconds(500))
    }

    @Test func triggeredFaultsFireBeforeTheMatchingMessage() {
        var triggered = SimulationConfig(nodes: 3, seed: 1, duration: .seconds(2), quiescence: .zero)
        triggered.workload.clientsPerNode = 1
        triggered.faults = [FaultStep(on: Trigger(.sent(kind: "FORWARD"), node: .id(NodeID(2)), occurrence: 3), .crash(.id(NodeID(2))))]
        let result = Simulation<Unreplicated>(config: triggered).run()
        let crash = result.events.first { $0.event.kind == "crash" && $0.node == NodeID(2) }
        #expect(crash != nil)
        // Node 2 forwarded two requests; its third forward never left, so its client has an indeterminate op.
        let fromNode2 = result.history.filter { $0.node == NodeID(2) }
        #expect(fromNode2.prefix(2).allSatisfy { if case .ok = $0.outcome { true } else { false } })
        #expect(fromNode2.dropFirst(2).first?.outcome == .indeterminate)
    }

    /// `event-node`: a trigger at any node strikes the node where it fired — here whichever
    /// node forwards first — and nothing else.
    @Test func aTriggerAtAnyNodeStrikesTheNodeWhereItFired() {
        for seed: UInt64 in 1...4 {
            var triggered = SimulationConfig(nodes: 5, seed: seed, duration: .seconds(1), quiescence: .zero)
            triggered.workload.clientsPerNode = 1
            triggered.faults = [FaultStep(on: Trigger(.sent(kind: "FORWARD"), notBefore: .zero + .milliseconds(100)), .crash(.eventNode))]
            let result = Simulation<Unreplicated>(config: triggered).run()
            let fired = result.events.first { $0.event.kind == "trigger" }
            let crashes = result.events.filter { $0.event.kind == "crash" }
            #expect(fired?.node != nil && fired?.node != NodeID(1), "seed \(seed): a forwarding node met the event")
            #expect(crashes.map(\.node) == [fired?.node], "seed \(seed): \(crashes)")
        }
    }

    @Test func droppedMessageKindsAreLostOnlyOnTheirLinksUntilHeal() {
        var quiet = SimulationConfig(nodes: 3, seed: 1, duration: .seconds(3), quiescence: .zero)
        quiet.workload.clientsPerNode = 0
        let simulation = Simulation<Unreplicated>(config: quiet)
        simulation.run(for: .milliseconds(1))
        simulation.apply(.drop(kinds: ["FORWARD"], from: [.id(NodeID(2))], to: [.id(NodeID(1))]))
        let cut = simulation.submit(.put(key: "a", value: "1"), via: NodeID(2))
        let open = simulation.submit(.put(key: "b", value: "2"), via: NodeID(3))
        simulation.run(for: .milliseconds(1_500))
        #expect(simulation.history[cut].outcome == .indeterminate)
        #expect(simulation.history[open].outcome == .ok(.done))
        simulation.apply(.heal)
        let healed = simulation.submit(.put(key: "c", value: "3"), via: NodeID(2))
        simulation.run(for: .milliseconds(100))
        #expect(simulation.history[healed].outcome == .ok(.done))
    }

    @Test func nemesisSchedulesAreIdenticalForEveryBackendAndRepairEverything() {
        let nemesis = Nemesis(faults: Nemesis.Fault.allCases)
        let a = nemesis.schedule(seed: 11, nodes: 5, duration: .seconds(30))
        #expect(a == nemesis.schedule(seed: 11, nodes: 5, duration: .seconds(30)))
        #expect(a != nemesis.schedule(seed: 12, nodes: 5, duration: .seconds(30)))
        #expect(a.allSatisfy { if case .at(let t) = $0.when { t < .zero + .seconds(30) } else { false } })
        #expect(a.count >= 10)
    }
}
