import ConsensusCore

/// An anomaly the checker found in the replayed run, placed in time by the operations involved.
package struct ReplayAnomaly {
    package var kind: String
    package var key: String?
    package var explanation: String
    /// History ids of the operations involved (none for a divergence, found after the run).
    package var operations: [Int]
    /// From the first invocation to the last completion (or invocation, when indeterminate) of the
    /// operations involved; nil without operations.
    package var start: Instant?
    package var end: Instant?

    /// `lost-write on k3`.
    var title: String { kind + (key.map { " on \($0)" } ?? "") }

    /// The anomalies of `anomaliesJSONL` (the checker's lines), timed by `history`.
    static func parse(_ anomaliesJSONL: String, history: [HistoryOperation]) -> [ReplayAnomaly] {
        let byID = Dictionary(history.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return anomaliesJSONL.split(separator: "\n").compactMap { line in
            guard let anomaly = try? JSONValue(parsing: String(line)), case .string(let kind)? = anomaly["kind"] else { return nil }
            let items: [JSONValue] = if case .array(let items)? = anomaly["ops"] { items } else { [] }
            let ids = items.compactMap { if case .number(let id) = $0 { Int(id) } else { nil } }
            let operations = ids.compactMap { byID[$0] }
            let key: String? = if case .string(let key)? = anomaly["key"] { key } else { nil }
            let explanation: String = if case .string(let text)? = anomaly["explanation"] { text } else { "" }
            return ReplayAnomaly(kind: kind, key: key, explanation: explanation, operations: ids, start: operations.map(\.invoke).min(),
                                 end: operations.map { $0.complete ?? $0.invoke }.max())
        }
    }
}
