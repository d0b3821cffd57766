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
