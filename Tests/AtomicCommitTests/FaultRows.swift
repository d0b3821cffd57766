import AtomicCommit
import ConformanceSuite
import ConsensusCore
import Simulator
import Testing
import ThreePhaseCommit
import TwoPhaseCommit

/// A backend built on `CommitCore`, so that the tests of FAULTS.md rows both protocols share can
/// look inside either.
protocol CommitBackend: LabBackend where Entry == TransactionRecord, Message: CommitWire {
    var core: CommitCore<Self> { get }
}

extension TwoPhaseCommit: CommitBackend {}
extension ThreePhaseCommit: CommitBackend {}

/// Assertions of the FAULTS.md rows whose expected outcome is the same for 2PC and 3PC.
enum FaultRows {
    /// (All rows run the scenario's faults with one client per node.)
    ///
    /// `leader-crash`, `minority-partition`, `leader-isolated`, `two-dc`: a write needs every node,
    /// so no write commits while a node is down or cut off (from 10 s to 20 s); reads are served
    /// locally; writes commit again after the fault. Returns the run for further checks.
    static func writesUnavailable<B: CommitBackend>(_ type: B.Type, _ name: String, label: String) throws -> (Simulation<B>, SimulationResult) {
        let simulation = try Support.simulation(type, try Support.scenario(name), label: label, seed: 1, clientsPerNode: 1)
        let result = simulation.run()
        let fault = Instant.seconds(10.1) ..< .seconds(19)
        let writes = Support.operations(result, writes: true, invokedIn: fault)
        #expect(Support.succeeded(writes) == 0, "\(label) \(name): writes committed during the fault")
        #expect(Support.aborted(writes) > writes.count / 2, "\(label) \(name): writes should abort (every vote is needed)")
        #expect(Support.succeeded(Support.operations(result, writes: false, invokedIn: fault)) > 0, "\(label) \(name): reads are local")
        #expect(Support.succeeded(Support.operations(result, writes: true, invokedIn: .seconds(21) ..< .seconds(29))) > 0,
                "\(label) \(name): writes resume after the fault")
        return (simulation, result)
    }

    /// `bridge`, `majorities-ring`, `one-way`: links cut so that not everyone hears everyone. A
    /// write needs every node's vote and is coordinated by its client's node, so it can commit only
    /// when that node exchanges messages with every other node: on a bridge the bridge node, on a
    /// ring and under one-way (nobody is heard by the first node) none. Every other write aborts;
    /// reads stay local and are served; writes commit again after the heal.
    static func writesUnavailableUnlessConnectedToAll<B: CommitBackend>(_ type: B.Type, _ name: String, label: String) throws {
        let simulation = try Support.simulation(type, try Support.scenario(name), label: label, seed: 1, clientsPerNode: 1)
        let result = simulation.run()
        let cut = try #require(result.events.firstCut { $0.groups == nil }, "\(name): no cut that leaves the nodes in anything but groups")
        let heal = try #require(result.events.first { $0.event == .fault(.heal, targets: [], reachability: nil) })
        let reach = cut.reachability
        let connected = simulation.cluster.filter { node in
            simulation.cluster.allSatisfy { $0 == node || (reach.reached(from: node).contains($0) && reach.reached(from: $0).contains(node)) }
        }
        #expect(connected.count == (name == "bridge" ? 1 : 0), "\(name): nodes that reach everyone: \(connected)")
        let others = simulation.cluster.filter { !connected.contains($0) }
        let fault = cut.time + .milliseconds(100) ..< heal.time - .seconds(1)
        let writes = Support.operations(result, writes: true, invokedIn: fault, at: others)
        #expect(!writes.isEmpty && Support.succeeded(writes) == 0, "\(label) \(name): writes of nodes cut from some other node committed")
        #expect(Support.aborted(writes) > writes.count / 2, "\(label) \(name): writes should abort (every vote is needed)")
        if !connected.isEmpty {
            // Many of them still abort: the other nodes' doomed transactions hold their keys'
            // locks until their votes time out (seed 1: 185 of 526 commit).
            let bridged = Support.operations(result, writes: true, invokedIn: fault, at: connected)
            #expect(Support.succeeded(bridged) > 0, "\(label) \(name): the bridge node reaches everyone and commits")
        }
        #expect(Support.succeeded(Support.operations(result, writes: false, invokedIn: fault)) > 0, "\(label) \(name): reads are local")
        let after = heal.time + .seconds(1) ..< result.workloadEnd
        #expect(Support.succeeded(Support.operations(result, writes: true, invokedIn: after)) > 0, "\(label) \(name): writes resume after the heal")
        Support.expectSafe(simulation, result, "\(label) \(name)")
    }

    /// `baseline`: every read is served; writes that race for a key abort (no-wait locking); the
    /// replicas agree.
    static func baseline<B: CommitBackend>(_ type: B.Type, label: String) throws {
        let simulation = try Support.simulation(type, try Support.scenario("baseline"), label: label, seed: 1, clientsPerNode: 1)
        let result = simulation.run()
        let all = Instant.zero ..< result.workloadEnd
        let reads = Support.operations(result, writes: false, invokedIn: all), writes = Support.operations(result, writes: true, invokedIn: all)
        #expect(Support.succeeded(reads) == reads.count, "\(label): every read is served")
        #expect(Support.aborted(writes) > 0 && Support.aborted(writes) < writes.count / 2,
                "\(label): some racing writes abort: \(Support.aborted(writes)) of \(writes.count)")
        #expect(!result.history.contains { $0.outcome == .indeterminate }, "\(label): nothing times out")
        Support.expectSafe(simulation, result, "\(label) baseline")
    }

    /// `flaky` (20% loss, duplicates, reordering): more writes abort than on a healthy network (a
    /// vote that does not get through in time aborts the transaction), and every run stays atomic.
    static func flaky<B: CommitBackend>(_ type: B.Type, label: String) throws {
        func abortRate(_ name: String) throws -> Double {
            let simulation = try Support.simulation(type, try Support.scenario(name), label: label, seed: 1, clientsPerNode: 1)
            let result = simulation.run()
            Support.expectSafe(simulation, result, "\(label) \(name)")
            let writes = Support.operations(result, writes: true, invokedIn: .zero ..< result.workloadEnd)
            return Double(Support.aborted(writes)) / Double(writes.count)
        }
        let flaky = try abortRate("flaky"), baseline = try abortRate("baseline")
        #expect(flaky > baseline * 1.5, "\(label) aborts: flaky \(flaky), baseline \(baseline)")
    }

    /// `crash-recover`: n1–n3 crash together at 10 s and restart at 12 s. Transactions their logs
    /// leave undecided are in doubt; after the restart each is resolved from the log and what the
    /// others say, consistently.
    static func crashRecover<B: CommitBackend>(_ type: B.Type, label: String, seeds: [UInt64]) throws {
        let scenario = try Support.scenario("crash-recover")
        var seedsWithDoubt = 0
        // Whether a transaction is mid-flight at the crash instant depends on the seed: try
        // enough seeds that some do, and check every one that does.
        for seed in seeds + (seeds.count < 8 ? (101...108).map(UInt64.init) : []) {
            let simulation = try Support.simulation(type, scenario, label: label, seed: seed, clientsPerNode: 1)
            simulation.run(until: .seconds(10.001))
            var inDoubt: [(NodeID, TransactionID)] = []
            for node in (1...3).map(NodeID.init) {
                #expect(!simulation.isUp(node))
                let log = simulation.storage(node).durable.entries
                let decided = Set(log.compactMap { if case .decided(let transaction, _) = $0 { transaction } else { nil } })
                for case .prepared(let transaction, _, _) in log where !decided.contains(transaction) { inDoubt.append((node, transaction)) }
            }
            if !inDoubt.isEmpty { seedsWithDoubt += 1 }
            let result = simulation.run()
            for (node, transaction) in inDoubt {
                let core = try #require(simulation.backend(node)).core
                #expect(core.active[transaction] == nil && core.decisions[transaction] != nil, "\(label) seed \(seed): \(transaction) still in doubt at \(node)")
            }
            Support.expectSafe(simulation, result, "\(label) crash-recover seed \(seed)")
        }
        #expect(seedsWithDoubt > 0, "\(label): no seed left a transaction in doubt at the crash")
    }

    /// Message counts and round trips of committed writes on a quiet network with a fixed latency:
    /// `messages` per write, the client answered after `roundTrips` round trips, and every
    /// transaction acknowledged and ended.
    static func cost<B: CommitBackend>(_ type: B.Type, nodes: Int, messages: Int, roundTrips: Int64) {
        let latency = TimeSpan.milliseconds(5)
        var config = SimulationConfig(nodes: nodes, seed: 1, duration: .seconds(3), quiescence: .seconds(1))
        config.workload.clientsPerNode = 0
        config.network = LinkProfile(latency: .fixed(latency))
        let simulation = Simulation<B>(config: config)
        var writes: [Int] = []
        for index in 0..<10 {
            writes.append(simulation.submit(.put(key: "k\(index % 3)", value: "v\(index)"), via: NodeID(index % nodes + 1)))
            simulation.run(for: .milliseconds(50))
        }
        #expect(simulation.counters.messagesSent == messages * writes.count, "\(B.protocolName), \(nodes) nodes")
        for index in writes {
            let operation = simulation.history[index]
            #expect(operation.outcome == .ok(.done))
            let elapsed = operation.complete! - operation.invoke
            let expected = latency * (2 * roundTrips)
            #expect(elapsed >= expected && elapsed < expected + .milliseconds(1), "\(B.protocolName): answered after \(elapsed)")
        }
        #expect(simulation.cluster.allSatisfy { simulation.backend($0)!.core.active.isEmpty }, "every transaction acknowledged and ended")
    }
}
