import ConsensusCore

/// How one participant decided a transaction (2PC/3PC).
public enum TransactionDecision: String, Sendable, Equatable {
    case committed
    case aborted
}

/// Atomic commitment: every participant that decides a transaction decides the same way (the
/// agreement property of atomic commit, Bernstein, Hadzilacos & Goodman 1987, ch. 7). A transaction
/// committed at some nodes and aborted at others is reported with both groups.
enum TransactionAtomicity {
    static func find(_ decisions: [String: [NodeID: TransactionDecision]]) -> [Anomaly] {
        var anomalies: [Anomaly] = []
        for transaction in decisions.keys.sorted() {
            let byNode = decisions[transaction]!
            let committed = byNode.keys.filter { byNode[$0] == .committed }.sorted()
            let aborted = byNode.keys.filter { byNode[$0] == .aborted }.sorted()
            guard !committed.isEmpty, !aborted.isEmpty else { continue }
            let names = { (nodes: [NodeID]) in nodes.map(\.description).joined(separator: ", ") }
            anomalies.append(Anomaly(
                kind: .atomicityViolation, transaction: transaction, nodes: committed + aborted,
                explanation: "transaction \(quoted(transaction)) was committed at \(names(committed)) but aborted at \(names(aborted)).",
                details: [
                    "committed": .array(committed.map { .number(Double($0.rawValue)) }),
                    "aborted": .array(aborted.map { .number(Double($0.rawValue)) }),
                ]))
        }
        return anomalies
    }
}
