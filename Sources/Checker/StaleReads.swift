import ConsensusCore

/// Stale reads, found directly in O(n log n) per key, independently of the search.
///
/// A read is stale when it returned a value that some completed write had already replaced before
/// the read began: it returned what write w1 produced, while a write w2 invoked after w1 completed
/// had itself completed before the read was invoked (w1 → w2 → read in real time). Lab histories
/// write unique values, but the check does not rely on it: it considers every write that could have
/// produced the value read (an equal put or cas, an append whose fragment ends it, a delete or the
/// initial state for a missing key) and reports the read only if each of them was followed by such
/// a w2. That makes each report a proof that the key is not linearizable: whatever write the
/// register last took before the read, a completed write came after it and before the read.
enum StaleReads {
    /// A write that may have produced a value (its index), or the initial state (`nil`).
    struct Producer {
        var complete: Int64
        var operation: Int?
    }

    static func find(key: String, operations: [HistoryOperation]) -> [Anomaly] {
        var exact: [String: Producer] = [:]
        exact.reserveCapacity(operations.count)
        var fragments: [String: Producer] = [:]
        var lastDelete = Producer(complete: Int64.min, operation: nil)
        var overwrites: [HistoryOperation] = []
        for (index, operation) in operations.enumerated() where tookEffectPossibly(operation) {
            let candidate = Producer(complete: operation.complete?.microseconds ?? Int64.max, operation: index)
            switch operation.command {
            case .get: continue
            case .put(_, let value), .cas(_, _, let value): exact[value] = later(exact[value], candidate)
            case .append(_, let fragment): fragments[fragment] = later(fragments[fragment], candidate)
            case .delete: lastDelete = later(lastDelete, candidate)
            }
            if case .ok = operation.outcome, operation.command != .append(key: key, value: "") {
                overwrites.append(operation)
            }
        }
        let fragmentLengths = Set(fragments.keys.map(\.utf8.count)).sorted()
        let index = OverwriteIndex(overwrites)
        var anomalies: [Anomaly] = []
        for read in operations {
            guard case .get = read.command, case .ok(.value(let value)) = read.outcome else { continue }
            let producer: Producer
            if let value {
                var best: Producer? = exact[value]
                let bytes = value.utf8
                for length in fragmentLengths where length <= bytes.count {
                    if let suffix = String(bytes.suffix(length)), let append = fragments[suffix] { best = later(best, append) }
                }
                // A value nothing wrote is not stale but invented; the search reports that.
                guard let best else { continue }
                producer = best
            } else {
                producer = lastDelete
            }
            guard let overwrite = index.latestInvoked(completingBefore: read.invoke.microseconds),
                  overwrite.invoke.microseconds > producer.complete else { continue }
            anomalies.append(anomaly(key: key, read: read, producer: producer.operation.map { operations[$0] }, overwrite: overwrite))
        }
        return anomalies
    }

    /// Whether the operation may have changed the register: ok or indeterminate writes.
    static func tookEffectPossibly(_ operation: HistoryOperation) -> Bool {
        switch operation.outcome {
        case .ok(.casMismatch), .fail: false
        case .ok, .indeterminate: true
        }
    }

    static func later(_ a: Producer?, _ b: Producer) -> Producer {
        guard let a else { return b }
        return b.complete > a.complete ? b : a
    }

    static func anomaly(key: String, read: HistoryOperation, producer: HistoryOperation?, overwrite: HistoryOperation) -> Anomaly {
        var involved = [read.id, overwrite.id]
        var text = "\(read.summary) is stale: "
        if let written = producer {
            involved.append(written.id)
            text += "the value was last written by \(written.summary)"
        } else {
            text += "the key was never deleted, so a missing key means the initial state"
        }
        text += ", but \(overwrite.summary) was invoked after that and completed before the read was invoked."
        return Anomaly(kind: .staleRead, key: key, operations: involved, explanation: text,
                       details: ["read_op": .number(Double(read.id))])
    }
}

/// Ok writes ordered by completion, with the running maximum of invocation times: answers "of the
/// writes completed before t, which was invoked last?" by binary search.
struct OverwriteIndex {
    private let completions: [Int64]
    private let latest: [HistoryOperation]

    init(_ writes: [HistoryOperation]) {
        let sorted = writes.sorted { ($0.complete!.microseconds, $0.id) < ($1.complete!.microseconds, $1.id) }
        completions = sorted.map { $0.complete!.microseconds }
        var latest: [HistoryOperation] = []
        latest.reserveCapacity(sorted.count)
        for write in sorted {
            if let last = latest.last, last.invoke >= write.invoke { latest.append(last) } else { latest.append(write) }
        }
        self.latest = latest
    }

    /// Among writes that completed strictly before `time`, the one invoked last.
    func latestInvoked(completingBefore time: Int64) -> HistoryOperation? {
        let after = completions.partitionPoint { $0 >= time }
        return after == 0 ? nil : latest[after - 1]
    }
}
