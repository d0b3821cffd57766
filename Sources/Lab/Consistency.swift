import Checker
import ConsensusCore
import Simulator

/// The consistency columns of `summary.csv` for one run, and the anomalies behind them.
public struct ConsistencySummary: Sendable {
    /// The checker's verdict: `unknown` is neither a pass nor a failure, and callers must say
    /// which they need (a promise of linearizability is kept only by `.linearizable`).
    public var linearizable: Verdict
    public var staleReads: Int
    public var lostWrites: Int
    public var divergentKeys: Int
    public var atomicityViolations: Int
    /// `anomalies.jsonl` of the run: one anomaly a line, empty when there is none.
    public var anomaliesJSONL: String

    /// Linearizable, and nothing stale, lost, divergent or torn.
    var isClean: Bool {
        linearizable == .linearizable && staleReads == 0 && lostWrites == 0 && divergentKeys == 0 && atomicityViolations == 0
    }

    /// Search steps per key: deterministic (a verdict never depends on the machine), and ample for
    /// the lab's histories; past it a key is `unknown`, never guessed.
    static let budget = CheckBudget(stepsPerKey: 1_000_000)

    package static func check(_ result: SimulationResult) -> ConsistencySummary {
        let named = result.namedTransactions.mapValues { $0.mapValues { $0 ? TransactionDecision.committed : .aborted } }
        let transactions = decisions(result.transactions).merging(named) { first, _ in first }
        var input = CheckInput(history: result.history, finalState: result.servedState ?? clusterState(result.finalStates), replicas: result.finalStates,
                               transactions: transactions.isEmpty ? nil : transactions,
                               transactionWrites: splitTransactionWrites(result).merging(result.namedTransactionWrites) { first, _ in first })
        input.replicaGroups = result.replicaGroups
        do {
            let report = try Checker.check(input, budget: budget)
            return ConsistencySummary(linearizable: report.linearizable, staleReads: report.staleReads,
                                      lostWrites: report.lostWrites ?? 0, divergentKeys: report.divergentKeys ?? 0,
                                      atomicityViolations: report.atomicityViolations ?? 0, anomaliesJSONL: report.anomaliesJSONL)
        } catch {
            // The simulator's own histories are well formed; if one is not, that is a lab bug.
            preconditionFailure("the checker refused a simulated history: \(error)")
        }
    }

    /// What the cluster holds after heal and quiescence, for lost-write detection: per key, the
    /// value most replicas hold (ties: the lowest-numbered node's). Divergence is reported apart.
    static func clusterState(_ replicas: [NodeID: [String: String]]) -> [String: String] {
        let nodes = replicas.keys.sorted()
        var state: [String: String] = [:]
        for key in Set(replicas.values.flatMap(\.keys)).sorted() {
            let values = nodes.map { replicas[$0]![key] }
            var best: String?? = nil, bestCount = 0
            for value in values where best.map({ $0 != value }) ?? true {
                let count = values.filter { $0 == value }.count
                if count > bestCount { best = value; bestCount = count }
            }
            if case .some(.some(let value)) = best { state[key] = value }
        }
        return state
    }

    /// Transactions by name (`T4.243`: coordinator n4's 243rd), as `TransactionID` prints them.
    static func decisions(_ transactions: [UInt64: [NodeID: Bool]]) -> [String: [NodeID: TransactionDecision]] {
        var result: [String: [NodeID: TransactionDecision]] = [:]
        for (id, byNode) in transactions {
            result[ObservableEvent.transactionName(id)] = byNode.mapValues { $0 ? .committed : .aborted }
        }
        return result
    }

    /// For each transaction decided both ways, the client operation it carried: the write to its
    /// key (from its participants' waits in doubt) by a client of its coordinator, invoked last
    /// before the first participant voted YES. A coordinator starts a transaction as the request
    /// arrives and refuses a second one on a locked key, so no other write of that node to the key
    /// is open then.
    static func splitTransactionWrites(_ result: SimulationResult) -> [String: Int] {
        let split = result.transactions.filter { Set($0.value.values).count > 1 }
        guard !split.isEmpty else { return [:] }
        var firstVote: [UInt64: InDoubtSpan] = [:]
        for span in result.inDoubt where split[span.transaction] != nil && (firstVote[span.transaction].map { span.start < $0.start } ?? true) {
            firstVote[span.transaction] = span
        }
        var writes: [String: Int] = [:]
        for (transaction, vote) in firstVote {
            let carried = result.history.last { operation in
                operation.node == vote.coordinator && operation.command.key == vote.key && !operation.command.isRead && operation.invoke <= vote.start
            }
            if let carried { writes[ObservableEvent.transactionName(transaction)] = carried.id }
        }
        return writes
    }
}
