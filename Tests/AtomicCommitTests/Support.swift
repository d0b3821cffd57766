import AtomicCommit
import ConsensusCore
import Foundation
import Lab
import Simulator
import Testing

/// Loading scenario files, running them, and the safety invariants every atomic-commit test checks
/// on its own (the lab's checker reports them too, but these tests do not depend on it).
enum Support {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func scenario(_ name: String) throws -> Scenario {
        let scenarios = try ScenarioFile.load(path: root.appendingPathComponent("Experiments/\(name).json").path)
        return scenarios[0]
    }

    /// The options a scenario gives the backend listed as `label` (`2pc`, `3pc[termination=true]`).
    static func options<B: LabBackend>(_: B.Type, _ scenario: Scenario, label: String) throws -> B.Options {
        let spec = try #require(scenario.backends.first { $0.label == label }, "\(scenario.name) does not list \(label)")
        var options = B.Options()
        for option in spec.options { try options.set(option.name, to: option.value) }
        return options
    }

    /// A simulation of `scenario` for one seed, to step and inspect; `clientsPerNode` lightens the
    /// load (the faults and their timing stay the scenario's) to keep debug-build tests quick.
    static func simulation<B: LabBackend>(_ type: B.Type, _ scenario: Scenario, label: String, seed: UInt64,
                                                  clientsPerNode: Int? = nil) throws -> Simulation<B> {
        var config = scenario.simulationConfig(seed: seed)
        if let clientsPerNode { config.workload.clientsPerNode = clientsPerNode }
        return Simulation<B>(config: config, options: try options(type, scenario, label: label))
    }

    /// Runs until the first crash (a triggered fault) and returns it, the simulation stopped 1 ms
    /// after it; nil if none happened by `limit`.
    static func runUntilCrash<B: LabBackend>(_ simulation: Simulation<B>, by limit: Instant) -> EventRecord? {
        while simulation.now < limit {
            simulation.run(for: .milliseconds(1))
            if let crash = simulation.events.first(where: { $0.event.kind == "crash" }) { return crash }
        }
        return nil
    }

    /// `label`, joined by `full` under `CONLAB_FULL=1`.
    static func labels(_ label: String, full: [String]) -> [String] {
        ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1" ? [label] + full : [label]
    }

    /// Seeds for a randomized sweep: `count` by default, `full` with `CONLAB_FULL=1`, one with `CONLAB_SEED=N`.
    static func seeds(default count: Int, full: Int) -> [UInt64] {
        let environment = ProcessInfo.processInfo.environment
        if let seed = environment["CONLAB_SEED"].flatMap(UInt64.init) { return [seed] }
        return (1...UInt64(environment["CONLAB_FULL"] == "1" ? full : count)).map { $0 }
    }

    // MARK: Invariants

    /// Transactions some node committed and another aborted.
    static func conflictingDecisions(_ result: SimulationResult) -> [UInt64] {
        result.transactions.filter { Set($0.value.values).count > 1 }.keys.sorted()
    }

    /// Transactions committed somewhere but not at every node (write-all: once the cluster has
    /// healed and quiesced, every node must have applied every committed write).
    static func partiallyCommitted(_ result: SimulationResult, nodes: Int) -> [UInt64] {
        result.transactions.filter { $0.value.values.contains(true) && $0.value.count < nodes }.keys.sorted()
    }

    static func divergentKeys(_ result: SimulationResult) -> [String] {
        let states = result.finalStates.keys.sorted().map { result.finalStates[$0]! }
        let keys = Set(states.flatMap(\.keys)).sorted()
        return keys.filter { key in states.contains { $0[key] != states[0][key] } }
    }

    /// Per key, the committed transactions in the order a node's log applied them.
    static func appliedOrder(_ entries: [TransactionRecord]) -> [String: [TransactionID]] {
        var keys: [TransactionID: String] = [:]
        var order: [String: [TransactionID]] = [:]
        for entry in entries {
            switch entry {
            case .prepared(let transaction, let request, _): keys[transaction] = request.command.key
            case .decided(let transaction, true): if let key = keys[transaction] { order[key, default: []].append(transaction) }
            default: break
            }
        }
        return order
    }

    /// Keys whose committed writes two nodes applied in different orders (serializability per key:
    /// with strict two-phase locking, every replica applies a key's writes in one order).
    static func orderViolations<B: LabBackend>(_ simulation: Simulation<B>) -> [String] where B.Entry == TransactionRecord {
        let orders = simulation.cluster.map { appliedOrder(simulation.storage($0).durable.entries) }
        var violations: Set<String> = []
        for order in orders.dropFirst() {
            for (key, applied) in order where !isPrefix(applied, orders[0][key] ?? []) && !isPrefix(orders[0][key] ?? [], applied) {
                violations.insert(key)
            }
        }
        return violations.sorted()
    }

    static func isPrefix<T: Equatable>(_ a: [T], _ b: [T]) -> Bool { a.count <= b.count && zip(a, b).allSatisfy(==) }

    /// Operations of `kind` invoked in `window`, by outcome.
    static func operations(_ result: SimulationResult, writes: Bool, invokedIn window: Range<Instant>, at nodes: [NodeID]? = nil) -> [HistoryOperation] {
        result.history.filter { $0.command.isRead != writes && window.contains($0.invoke) && (nodes?.contains($0.node) ?? true) }
    }

    static func succeeded(_ operations: [HistoryOperation]) -> Int {
        operations.filter { if case .ok = $0.outcome { true } else { false } }.count
    }

    static func aborted(_ operations: [HistoryOperation]) -> Int {
        operations.filter { $0.outcome == .fail(.refused) }.count
    }
}

extension Instant {
    static func seconds(_ value: Double) -> Instant { Instant(microseconds: Int64(value * 1_000_000)) }
}

extension Support {
    /// The invariants of a safe atomic commit, after a run that healed and quiesced: no transaction
    /// decided both ways, every committed one applied everywhere, replicas equal, and every key's
    /// writes applied in one order.
    static func expectSafe<B: LabBackend>(_ simulation: Simulation<B>, _ result: SimulationResult, _ context: String,
                                                  sourceLocation: SourceLocation = #_sourceLocation) where B.Entry == TransactionRecord {
        let conflicting = conflictingDecisions(result)
        #expect(conflicting.isEmpty, "\(context): transactions decided both ways: \(conflicting.prefix(5))", sourceLocation: sourceLocation)
        let partial = partiallyCommitted(result, nodes: simulation.cluster.count)
        #expect(partial.isEmpty, "\(context): committed transactions missing at some node: \(partial.prefix(5))", sourceLocation: sourceLocation)
        let divergent = divergentKeys(result)
        #expect(divergent.isEmpty, "\(context): replicas differ on \(divergent)", sourceLocation: sourceLocation)
        let reordered = orderViolations(simulation)
        #expect(reordered.isEmpty, "\(context): writes applied in different orders on \(reordered)", sourceLocation: sourceLocation)
    }
}
