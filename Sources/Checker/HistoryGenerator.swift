import ConsensusCore

/// Histories of a real sequential key-value store, for tests and benchmarks of the checker.
///
/// Clients issue random operations with random, overlapping intervals; each operation that takes
/// effect does so at a random instant inside its interval (its linearization point), and results
/// come from applying the operations to a sequential store in the order of those instants. So
/// every generated history is linearizable by construction, with the order of linearization points
/// as the witness. Some operations are indeterminate (a client gave up): some of those took effect,
/// possibly well after the client moved on, and some never did. Some are refused (no effect). Every
/// write carries a unique value "v<id>", so appended strings spell out exactly which writes built
/// them. Deterministic: the same configuration and seed give the same history.
package enum HistoryGenerator {
    package struct Configuration: Sendable {
        var operations: Int
        var clients: Int
        var keys: Int
        /// Fraction of operations that end indeterminate.
        var indeterminateFraction: Double
        /// Fraction of indeterminate operations that nevertheless took effect.
        var indeterminateEffectFraction: Double
        /// Fraction of operations refused (no effect, known to the client).
        var refusedFraction: Double
        /// Relative weights of get, put, delete, append and cas.
        var weights: [OperationKind: Double]
        /// Length of an operation's interval, microseconds.
        var duration: ClosedRange<Int64>
        /// A client's pause between operations, microseconds.
        var think: ClosedRange<Int64>
        /// How long after its invocation an indeterminate operation may still take effect.
        var lateEffect: Int64

        package init(operations: Int, clients: Int, keys: Int, indeterminateFraction: Double = 0.01,
                    indeterminateEffectFraction: Double = 0.5, refusedFraction: Double = 0.01,
                    weights: [OperationKind: Double] = [.get: 4, .put: 2, .delete: 1, .append: 1, .cas: 2],
                    duration: ClosedRange<Int64> = 100...2_000, think: ClosedRange<Int64> = 0...500,
                    lateEffect: Int64 = 10_000) {
            self.operations = operations
            self.clients = clients
            self.keys = keys
            self.indeterminateFraction = indeterminateFraction
            self.indeterminateEffectFraction = indeterminateEffectFraction
            self.refusedFraction = refusedFraction
            self.weights = weights
            self.duration = duration
            self.think = think
            self.lateEffect = lateEffect
        }
    }

    /// The five operations, for workload weights.
    package enum OperationKind: String, Sendable, CaseIterable, Hashable {
        case get, put, delete, append, cas
    }

    /// How an operation will end, decided before the run.
    enum Fate {
        case answered
        case refused
        case indeterminate(tookEffect: Bool)
    }

    struct Planned {
        var client: Int
        var kind: OperationKind
        var key: String
        var invoke: Int64
        var complete: Int64
        var fate: Fate
        /// When it takes effect, if it does.
        var point: Int64?
    }

    package static func generate(_ configuration: Configuration, seed: UInt64) -> GeneratedHistory {
        var random = DeterministicRandom(seed: seed, label: "history-generator")
        let plan = planned(configuration, random: &random)
        var store: [String: String] = [:]
        var epochs: [String: [GeneratedHistory.Epoch]] = [:]
        var results: [CommandResult?] = Array(repeating: nil, count: plan.count)
        var expected: [String?] = Array(repeating: nil, count: plan.count)
        var seen: [String: [String]] = [:]
        let effects = plan.indices.filter { plan[$0].point != nil }.sorted { (plan[$0].point!, $0) < (plan[$1].point!, $1) }
        for id in effects {
            let operation = plan[id]
            if operation.kind == .cas { expected[id] = guess(store[operation.key], seen[operation.key] ?? [], random: &random) }
            let command = command(operation, id: id, expected: expected[id])
            let before = store[operation.key]
            results[id] = execute(command, on: &store)
            if store[operation.key] != before {
                epochs[operation.key, default: [GeneratedHistory.Epoch(value: nil, creator: nil)]].endLast(by: id)
                epochs[operation.key]!.append(GeneratedHistory.Epoch(value: store[operation.key], creator: id))
                seen[operation.key, default: []].append(store[operation.key] ?? "")
            }
        }
        var operations: [HistoryOperation] = []
        operations.reserveCapacity(plan.count)
        for (id, operation) in plan.enumerated() {
            if operation.kind == .cas, operation.point == nil {
                expected[id] = guess(nil, seen[operation.key] ?? [], random: &random)
            }
            operations.append(HistoryOperation(
                id: id, client: ClientID(operation.client + 1), node: NodeID(operation.client % 5 + 1),
                command: command(operation, id: id, expected: expected[id]),
                invoke: Instant(microseconds: operation.invoke),
                complete: operation.fate.isIndeterminate ? nil : Instant(microseconds: operation.complete),
                outcome: outcome(operation.fate, result: results[id])))
        }
        return GeneratedHistory(operations: operations, finalState: store, epochs: epochs)
    }

    /// Each client's operations back to back with random pauses, all sorted by invocation so that
    /// ids follow invocation order, as in lab histories.
    static func planned(_ configuration: Configuration, random: inout DeterministicRandom) -> [Planned] {
        let kinds = OperationKind.allCases.filter { (configuration.weights[$0] ?? 0) > 0 }
        let total = kinds.reduce(0) { $0 + configuration.weights[$1]! }
        var plan: [Planned] = []
        plan.reserveCapacity(configuration.operations)
        let clients = max(configuration.clients, 1)
        for client in 0..<clients {
            var time = random.uniform(configuration.think)
            let share = configuration.operations / clients + (client < configuration.operations % clients ? 1 : 0)
            for _ in 0..<share {
                var draw = random.nextUnit() * total
                let kind = kinds.first { draw -= configuration.weights[$0]!; return draw < 0 } ?? kinds.last!
                let key = "k\(random.index(below: max(configuration.keys, 1)))"
                let complete = time + random.uniform(configuration.duration)
                let roll = random.nextUnit()
                let fate: Fate
                var point: Int64?
                if roll < configuration.indeterminateFraction {
                    let tookEffect = random.chance(configuration.indeterminateEffectFraction)
                    fate = .indeterminate(tookEffect: tookEffect)
                    if tookEffect { point = random.uniform(time...(time + configuration.lateEffect)) }
                } else if roll < configuration.indeterminateFraction + configuration.refusedFraction {
                    fate = .refused
                } else {
                    fate = .answered
                    point = random.uniform(time...complete)
                }
                plan.append(Planned(client: client, kind: kind, key: key, invoke: time, complete: complete, fate: fate, point: point))
                time = complete + random.uniform(configuration.think)
            }
        }
        plan.sort { ($0.invoke, $0.client) < ($1.invoke, $1.client) }
        return plan
    }

    /// A cas's expected value: half the time the current one, else some earlier value or absent.
    static func guess(_ current: String?, _ seen: [String], random: inout DeterministicRandom) -> String? {
        if random.chance(0.5) { return current }
        if seen.isEmpty || random.chance(0.2) { return nil }
        let value = seen[random.index(below: seen.count)]
        return value.isEmpty ? nil : value
    }

    static func command(_ operation: Planned, id: Int, expected: String?) -> Command {
        let value = "v\(id)"
        switch operation.kind {
        case .get: return .get(key: operation.key)
        case .put: return .put(key: operation.key, value: value)
        case .delete: return .delete(key: operation.key)
        case .append: return .append(key: operation.key, value: value)
        case .cas: return .cas(key: operation.key, expected: expected, value: value)
        }
    }

    /// The sequential store's semantics (KVStore's, which this module may not import).
    static func execute(_ command: Command, on store: inout [String: String]) -> CommandResult {
        switch command {
        case .get(let key):
            return .value(store[key])
        case .put(let key, let value):
            store[key] = value
        case .delete(let key):
            store[key] = nil
        case .append(let key, let value):
            store[key, default: ""] += value
        case .cas(let key, let expected, let value):
            guard store[key] == expected else { return .casMismatch(current: store[key]) }
            store[key] = value
        }
        return .done
    }

    static func outcome(_ fate: Fate, result: CommandResult?) -> Outcome {
        switch fate {
        case .refused: return .fail(.refused)
        case .indeterminate: return .indeterminate
        case .answered:
            if case .casMismatch = result { return .fail(.casMismatch) }
            return .ok(result!)
        }
    }
}

extension HistoryGenerator.Fate {
    var isIndeterminate: Bool { if case .indeterminate = self { true } else { false } }
}


/// A generated history with the knowledge of how it was produced.
package struct GeneratedHistory: Sendable {
    /// In id order, which is invocation order.
    package var operations: [HistoryOperation]
    /// The store after every operation that took effect.
    package var finalState: [String: String]

    /// A value a key held in the real run: which operation created it and which replaced it.
    struct Epoch: Sendable {
        var value: String?
        var creator: Int?
        var ender: Int?
    }

    /// Per key, the values it held in order.
    let epochs: [String: [Epoch]]
}

extension [GeneratedHistory.Epoch] {
    mutating func endLast(by id: Int) { self[count - 1].ender = id }
}
