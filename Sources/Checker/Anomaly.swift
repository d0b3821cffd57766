import ConsensusCore

/// The linearizability verdict of a history or of one key; `rawValue` is the `linearizable` column
/// of `summary.csv`.
public enum Verdict: String, Sendable, Equatable {
    case linearizable = "true"
    case notLinearizable = "false"
    /// The budget ran out first. Never a guess: an unknown is never reported as either answer.
    case unknown

    /// The verdict of a whole from its parts: false if any part is, else unknown if any part is.
    static func combining(_ verdicts: some Sequence<Verdict>) -> Verdict {
        var result = Verdict.linearizable
        for verdict in verdicts {
            if verdict == .notLinearizable { return .notLinearizable }
            if verdict == .unknown { result = .unknown }
        }
        return result
    }
}

/// The kinds of anomaly the checker reports; `rawValue` is the `kind` of `anomalies.jsonl`.
/// Declaration order is report order.
public enum AnomalyKind: String, Sendable, CaseIterable, Comparable {
    case nonLinearizable = "non-linearizable"
    case staleRead = "stale-read"
    case lostWrite = "lost-write"
    case replicaDivergence = "replica-divergence"
    case atomicityViolation = "atomicity-violation"

    public static func < (lhs: AnomalyKind, rhs: AnomalyKind) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One anomaly, with the operations involved and an explanation a person can follow.
public struct Anomaly: Sendable, Equatable {
    public var kind: AnomalyKind
    /// The key, for anomalies of one key.
    public var key: String?
    /// The transaction, for atomicity violations.
    public var transaction: String?
    /// Ids of the history operations involved, ascending.
    public var operations: [Int]
    /// Nodes involved (divergence, atomicity), ascending.
    public var nodes: [NodeID]
    public var explanation: String
    /// Further facts as JSON members (for example the length of the longest linearizable prefix).
    public var details: [String: JSONValue]

    init(kind: AnomalyKind, key: String? = nil, transaction: String? = nil, operations: [Int] = [],
                nodes: [NodeID] = [], explanation: String, details: [String: JSONValue] = [:]) {
        self.kind = kind
        self.key = key
        self.transaction = transaction
        self.operations = Array(Set(operations)).sorted()
        self.nodes = Array(Set(nodes)).sorted()
        self.explanation = explanation
        self.details = details
    }

    /// One line of `anomalies.jsonl`: kind, key, ops, explanation, then the rest; keys in a fixed order.
    public var jsonLine: String {
        var members: [(key: String, value: JSONValue)] = [("kind", .string(kind.rawValue))]
        members.append(("key", key.map(JSONValue.string) ?? .null))
        if let transaction { members.append(("transaction", .string(transaction))) }
        members.append(("ops", .array(operations.map { .number(Double($0)) })))
        if !nodes.isEmpty { members.append(("nodes", .array(nodes.map { .number(Double($0.rawValue)) }))) }
        members.append(("explanation", .string(explanation)))
        for name in details.keys.sorted() { members.append((name, details[name]!)) }
        return JSONValue.object(members).serialized
    }

    /// Report order: kind, then key, then transaction, then operations.
    static func reportOrder(_ a: Anomaly, _ b: Anomaly) -> Bool {
        if a.kind != b.kind { return a.kind < b.kind }
        if a.key != b.key { return (a.key ?? "") < (b.key ?? "") }
        if a.transaction != b.transaction { return (a.transaction ?? "") < (b.transaction ?? "") }
        return a.operations.lexicographicallyPrecedes(b.operations)
    }
}

extension HistoryOperation {
    /// A short readable form for explanations: `#7 put "v17" (c3 on n2, 1200–1850us)`.
    var summary: String {
        var text = "#\(id) \(command.name)"
        switch command {
        case .get:
            if case .ok(.value(let read)) = outcome { text += " → \(quoted(read))" }
        case .delete:
            break
        case .put(_, let value), .append(_, let value):
            text += " \(quoted(value))"
        case .cas(_, let expected, let value):
            text += " \(quoted(expected))→\(quoted(value))"
        }
        text += " (\(client) on \(node), "
        if let complete {
            text += "\(invoke.microseconds)–\(complete.microseconds)us"
        } else {
            text += "from \(invoke.microseconds)us"
        }
        switch outcome {
        case .ok(.casMismatch), .fail(.casMismatch): text += ", cas-mismatch"
        case .fail(.refused): text += ", refused"
        case .indeterminate: text += ", indeterminate"
        case .ok: break
        }
        return text + ")"
    }
}

extension HistoryOperation {
    /// The operation in a few words, for a drawing: `put n1.5`, `get → n3.2`, `cas n1→n2 ✗` (a
    /// mismatch); long values keep their end, where appends grow.
    var label: String {
        func short(_ value: String?) -> String {
            guard let value else { return "absent" }
            if value.isEmpty { return "\"\"" }
            return value.count > 24 ? "…" + value.suffix(23) : value
        }
        switch command {
        case .get:
            if case .ok(.value(let read)) = outcome { return "get → \(short(read))" }
            return "get"
        case .delete: return "delete"
        case .put(_, let value), .append(_, let value): return "\(command.name) \(short(value))"
        case .cas(_, let expected, let value):
            return "cas \(short(expected))→\(short(value))" + (isCasMismatch ? " ✗" : "")
        }
    }

    /// What a drawing of the operation needs (`anomalies.jsonl` is all a report has): who, when
    /// in microseconds (`complete_us` null for a timed-out operation), what, and how it ended.
    var drawingFacts: JSONValue {
        .object([
            ("id", .number(Double(id))), ("client", .number(Double(client.rawValue))), ("node", .number(Double(node.rawValue))),
            ("invoke_us", .number(Double(invoke.microseconds))), ("complete_us", complete.map { .number(Double($0.microseconds)) } ?? .null),
            ("op", .string(label)), ("outcome", .string(isCasMismatch ? "fail" : outcome.name)),
        ])
    }

    /// A cas answered "mismatch", however recorded (ok or fail): it changed nothing.
    var isCasMismatch: Bool {
        switch outcome {
        case .ok(.casMismatch), .fail(.casMismatch): true
        default: false
        }
    }
}

/// Readable list of operations: "#1 put … and #4 get …".
func listed(_ operations: [HistoryOperation]) -> String {
    switch operations.count {
    case 0: return "none"
    case 1: return operations[0].summary
    default: return operations.dropLast().map(\.summary).joined(separator: ", ") + " and " + operations.last!.summary
    }
}
