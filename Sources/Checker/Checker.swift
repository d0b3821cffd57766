import ConsensusCore

/// What the checker judges: a history, and optionally what the cluster looked like at the end.
public struct CheckInput: Sendable {
    public var history: [HistoryOperation]
    /// The quiesced store's contents (a key missing here is absent), for lost-write detection.
    public var finalState: [String: String]?
    /// Each node's state machine after heal and quiescence, for replica divergence.
    public var replicas: [NodeID: [String: String]]?
    /// Nodes still down at the end: their state is not compared.
    public var downNodes: Set<NodeID>
    /// The sets of nodes whose states are compared with each other (the groups of a sharded
    /// store hold different keys); empty: all of `replicas` together.
    public var replicaGroups: [[NodeID]] = []
    /// Per transaction, each participant's decision (2PC/3PC), for atomicity.
    public var transactions: [String: [NodeID: TransactionDecision]]?
    /// Per transaction, where known, the id of the history operation whose write it carried, so
    /// that an atomicity violation names the client's operation and its key.
    public var transactionWrites: [String: Int]

    public init(history: [HistoryOperation], finalState: [String: String]? = nil,
                replicas: [NodeID: [String: String]]? = nil, downNodes: Set<NodeID> = [],
                transactions: [String: [NodeID: TransactionDecision]]? = nil, transactionWrites: [String: Int] = [:]) {
        self.history = history
        self.finalState = finalState
        self.replicas = replicas
        self.downNodes = downNodes
        self.transactions = transactions
        self.transactionWrites = transactionWrites
    }
}

/// How much search the checker may spend on one key before answering "unknown".
///
/// The step limit is the primary, deterministic budget: the same history gets the same verdict on
/// any machine, as the simulator's CSVs require. The optional wall-clock limit protects an
/// interactive `conlab check`; it can only turn a verdict into "unknown", never into an answer.
public struct CheckBudget: Sendable, Equatable {
    /// Candidate operations the search may try per key.
    public var stepsPerKey: Int
    /// Seconds of wall-clock time per key, if limited.
    public var secondsPerKey: Double?

    public init(stepsPerKey: Int, secondsPerKey: Double? = nil) {
        self.stepsPerKey = stepsPerKey
        self.secondsPerKey = secondsPerKey
    }

    /// Ten million steps: a linearizable history needs a few steps per operation, so this covers
    /// keys with millions of operations, and caps a hopeless search at seconds.
    public static let standard = CheckBudget(stepsPerKey: 10_000_000)
}

/// The checker's findings for one history.
public struct CheckReport: Sendable {
    /// False if any key is not linearizable, else unknown if any key is unknown, else true.
    public var linearizable: Verdict
    /// Per key, in key order.
    public var keys: [KeyVerdict]
    /// In report order: kind, key, operations.
    public var anomalies: [Anomaly]
    public var staleReads: Int
    /// `nil` when no final state was given.
    public var lostWrites: Int?
    /// `nil` when no replica states were given.
    public var divergentKeys: Int?
    /// `nil` when no transaction decisions were given.
    public var atomicityViolations: Int?

    /// `conlab check`'s exit status: 0 linearizable and no anomaly, 1 any anomaly, 3 unknown.
    package var exitStatus: Int32 {
        if !anomalies.isEmpty || linearizable == .notLinearizable { return 1 }
        return linearizable == .unknown ? 3 : 0
    }

    /// `anomalies.jsonl`: one anomaly a line.
    public var anomaliesJSONL: String { anomalies.map { $0.jsonLine + "\n" }.joined() }
}

public enum Checker {
    /// Judges a history: linearizability per key and overall, and every direct check whose input
    /// is given. Deterministic: the same input and budget give the same report, whatever `jobs`.
    ///
    /// Keys are independent (P-compositionality), so up to `jobs` of them are checked at once:
    /// `conlab check` uses every processor, as Porcupine does; the runner, which already runs
    /// several runs at once, one.
    public static func check(_ input: CheckInput, budget: CheckBudget = .standard, jobs: Int = 1) throws(HistoryError) -> CheckReport {
        let history = inIDOrder(input.history)
        try validate(history)
        let finalState = input.finalState
        let groups = partitionByKey(history)
        let check: @Sendable ((key: String, operations: [HistoryOperation])) -> KeyFindings = { group in
            checkKey(group.key, group.operations, budget: budget, finalState: finalState)
        }
        let findings = jobs > 1 && groups.count > 1 ? Parallel.map(groups, jobs: jobs, check) : groups.map(check)
        let keys = findings.map(\.verdict)
        var anomalies = findings.flatMap(\.anomalies)
        let staleReads = findings.reduce(0) { $0 + $1.staleReads }
        let lostWrites = findings.reduce(0) { $0 + $1.lostWrites }
        let divergence = input.replicas.map { replicas in
            guard !input.replicaGroups.isEmpty else { return ReplicaDivergence.find(replicas: replicas, down: input.downNodes) }
            return input.replicaGroups.flatMap { group in ReplicaDivergence.find(replicas: replicas.filter { group.contains($0.key) }, down: input.downNodes) }
        }
        let atomicity = input.transactions.map { decisions in
            TransactionAtomicity.find(decisions, writes: input.transactionWrites.compactMapValues { id in input.history.first { $0.id == id } })
        }
        anomalies += (divergence ?? []) + (atomicity ?? [])
        anomalies.sort(by: Anomaly.reportOrder)
        return CheckReport(
            linearizable: Verdict.combining(keys.map(\.verdict)), keys: keys, anomalies: anomalies,
            staleReads: staleReads, lostWrites: input.finalState == nil ? nil : lostWrites,
            divergentKeys: divergence?.count, atomicityViolations: atomicity?.count)
    }

    /// What the checker finds on one key.
    struct KeyFindings: Sendable {
        var verdict: KeyVerdict
        /// Stale reads, the violation, lost writes, in that order.
        var anomalies: [Anomaly]
        var staleReads: Int
        var lostWrites: Int
    }

    /// Every check of one key: stale reads, linearizability, and lost writes if the final state is given.
    static func checkKey(_ key: String, _ operations: [HistoryOperation], budget: CheckBudget, finalState: [String: String]?) -> KeyFindings {
        let stale = StaleReads.find(key: key, operations: operations)
        let (verdict, violation) = checkKey(key, operations, staleReads: stale, budget: budget)
        let lost = finalState.map { LostWrites.find(key: key, operations: operations, final: $0[key]) } ?? []
        return KeyFindings(verdict: verdict, anomalies: stale + (violation.map { [$0] } ?? []) + lost,
                           staleReads: stale.count, lostWrites: lost.count)
    }

    /// Linearizability of one key's operations (all on `key`, in id order); a stale read among
    /// them is a proof of a violation that the search need not find.
    static func checkKey(_ key: String, _ operations: [HistoryOperation], staleReads: [Anomaly] = [],
                         budget: CheckBudget) -> (KeyVerdict, Anomaly?) {
        KeyLinearizability.check(KeyHistory(key: key, operations: operations), staleReads: staleReads, budget: budget)
    }

    /// The history sorted by id (histories are written in id order, so usually as given).
    static func inIDOrder(_ history: [HistoryOperation]) -> [HistoryOperation] {
        history.indices.dropFirst().allSatisfy { history[$0 - 1].id < history[$0].id } ? history : history.sorted { $0.id < $1.id }
    }

    /// The same rules the reader applies to a file, applied to a history built in memory (sorted
    /// by id, so a duplicate id is next to its twin).
    static func validate(_ history: [HistoryOperation]) throws(HistoryError) {
        for (index, operation) in history.enumerated() {
            if index > 0, history[index - 1].id == operation.id {
                throw HistoryError(reason: "operation #\(operation.id): duplicate id")
            }
            if let problem = operation.consistencyProblem {
                throw HistoryError(reason: "operation #\(operation.id): \(problem)")
            }
        }
    }

    /// The history (in id order) split by key, keys in order, each key's operations in id order.
    static func partitionByKey(_ history: [HistoryOperation]) -> [(key: String, operations: [HistoryOperation])] {
        var slot: [String: Int] = [:]
        var groups: [[HistoryOperation]] = []
        for operation in history {
            if let index = slot[operation.command.key] {
                groups[index].append(operation)
            } else {
                slot[operation.command.key] = groups.count
                groups.append([operation])
            }
        }
        return slot.keys.sorted().map { key in (key, groups[slot[key]!]) }
    }
}
