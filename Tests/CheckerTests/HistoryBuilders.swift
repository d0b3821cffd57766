import ConsensusCore
@testable import Checker

// Small builders for hand-written histories. Each operation gets its own client unless told, so
// only the recorded intervals order operations. A `nil` completion makes an operation
// indeterminate.

func operation(_ id: Int, _ command: Command, _ invoke: Int64, _ complete: Int64?, _ outcome: Outcome, client: Int? = nil) -> HistoryOperation {
    HistoryOperation(id: id, client: ClientID(client ?? id), node: NodeID(1), command: command,
                     invoke: Instant(microseconds: invoke), complete: complete.map(Instant.init(microseconds:)),
                     outcome: outcome)
}

func written(_ complete: Int64?) -> Outcome { complete == nil ? .indeterminate : .ok(.done) }

func get(_ id: Int, _ value: String?, _ invoke: Int64, _ complete: Int64?, key: String = "k") -> HistoryOperation {
    operation(id, .get(key: key), invoke, complete, complete == nil ? .indeterminate : .ok(.value(value)))
}

func put(_ id: Int, _ value: String, _ invoke: Int64, _ complete: Int64?, key: String = "k") -> HistoryOperation {
    operation(id, .put(key: key, value: value), invoke, complete, written(complete))
}

func delete(_ id: Int, _ invoke: Int64, _ complete: Int64?, key: String = "k") -> HistoryOperation {
    operation(id, .delete(key: key), invoke, complete, written(complete))
}

func append(_ id: Int, _ fragment: String, _ invoke: Int64, _ complete: Int64?, key: String = "k") -> HistoryOperation {
    operation(id, .append(key: key, value: fragment), invoke, complete, written(complete))
}

func cas(_ id: Int, _ expected: String?, _ value: String, _ invoke: Int64, _ complete: Int64?, mismatch: Bool = false, key: String = "k") -> HistoryOperation {
    operation(id, .cas(key: key, expected: expected, value: value), invoke, complete, mismatch ? .fail(.casMismatch) : written(complete))
}

func refused(_ operation: HistoryOperation) -> HistoryOperation {
    var refused = operation
    refused.outcome = .fail(.refused)
    return refused
}

/// The overall verdict with the standard budget.
func verdict(_ history: [HistoryOperation]) throws -> Verdict {
    try Checker.check(CheckInput(history: history)).linearizable
}

/// A generated put/get/delete history of one key whose put values fold onto a few ("v17" →
/// "v2" with 5): a linearization of the original is still one, but the values no longer say which
/// put a read saw, so no construction from epochs applies and only the search can decide it.
func withFoldedValues(operations: Int, clients: Int, seed: UInt64, into count: Int = 5) -> [HistoryOperation] {
    let generated = HistoryGenerator.generate(
        .init(operations: operations, clients: clients, keys: 1, weights: [.get: 4, .put: 3, .delete: 1]), seed: seed)
    func folded(_ value: String?) -> String? { value.map { "v\((Int($0.dropFirst()) ?? 0) % count)" } }
    return generated.operations.map { operation in
        var operation = operation
        if case .put(let key, let value) = operation.command { operation.command = .put(key: key, value: folded(value)!) }
        if case .ok(.value(let read)) = operation.outcome { operation.outcome = .ok(.value(folded(read))) }
        return operation
    }
}
