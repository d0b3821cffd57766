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
    /// `writes`: the client operation each transaction carried, where the caller knows it; the
    /// anomaly then names that operation and its key, so that a reader can find the write on the
    /// timeline and the key whose replicas it split.
    static func find(_ decisions: [String: [NodeID: TransactionDecision]], writes: [String: HistoryOperation] = [:]) -> [Anomaly] {
        var anomalies: [Anomaly] = []
        for transaction in decisions.keys.sorted() {
            let byNode = decisions[transaction]!
            let committed = byNode.keys.filter { byNode[$0] == .committed }.sorted()
            let aborted = byNode.keys.filter { byNode[$0] == .aborted }.sorted()
            guard !committed.isEmpty, !aborted.isEmpty else { continue }
            let names = { (nodes: [NodeID]) in nodes.map(\.description).joined(separator: ", ") }
            let write = writes[transaction]
            let carrying = write.map { ", which carried \($0.summary)," } ?? ""
            anomalies.append(Anomaly(
                kind: .atomicityViolation, key: write?.command.key, transaction: transaction, operations: write.map { [$0.id] } ?? [],
                nodes: committed + aborted,
                explanation: "transaction \(transaction)\(carrying) was committed at \(names(committed)) but aborted at \(names(aborted))"
                    + (write.map { ": the replicas of key \(quoted($0.command.key)) no longer agree on whether the write happened." } ?? "."),
                details: [
                    "committed": .array(committed.map { .number(Double($0.rawValue)) }),
                    "aborted": .array(aborted.map { .number(Double($0.rawValue)) }),
                ]))
        }
        return anomalies
    }
}
