import ConsensusCore

/// Lost acknowledged writes: acknowledged writes whose effect is missing from the final, quiesced
/// state and that nothing in the history can have legitimately overwritten. Linear per key.
///
/// The final value of a key is what the last "replacing" write (put, cas, delete; or the initial
/// state) left, followed by the fragments of the appends after it. So an acknowledged write w is
/// accounted for if its own effect is still there (a put or cas whose value begins the final
/// string, an append whose fragment occurs in it, a delete when the key is absent), or if some
/// other replacing write that could have been the last one — its own effect is there — could also
/// have been ordered after w, i.e. did not complete before w was invoked (indeterminate writes
/// never completed). Otherwise w's acknowledgement was a lie: the write is lost.
///
/// With appends, "begins" and "occurs in" are the lenient tests, and a delete is always accounted
/// for (appends after it could have rebuilt any value), so nothing is reported that a legitimate
/// order could explain.
enum LostWrites {
    static func find(key: String, operations: [HistoryOperation], final: String?) -> [Anomaly] {
        let effective = operations.filter { !$0.command.isRead && StaleReads.tookEffectPossibly($0) }
        let fragments = effective.compactMap { write -> String? in
            if case .append(_, let fragment) = write.command { fragment } else { nil }
        }
        let hasAppends = !fragments.isEmpty
        let occurring = Substrings(of: final ?? "", lengths: Set(fragments.map(\.utf8.count)))
        func present(_ write: HistoryOperation) -> Bool {
            switch write.command {
            case .get: return true
            case .put(_, let value), .cas(_, _, let value):
                guard let final else { return false }
                return hasAppends ? final.hasPrefix(value) : final == value
            case .append(_, let fragment):
                guard final != nil else { return false }
                return fragment.isEmpty || occurring.contains(fragment)
            case .delete:
                return final == nil || hasAppends
            }
        }
        // The two latest-completing writes that could have been the last replacing write, so that
        // a write is never its own explanation.
        var latest: [(complete: Int64, operation: HistoryOperation)] = []
        for write in effective where replaces(write) && present(write) {
            latest.append((write.complete?.microseconds ?? Int64.max, write))
            latest.sort { ($0.complete, $0.operation.id) > ($1.complete, $1.operation.id) }
            if latest.count > 2 { latest.removeLast() }
        }
        var anomalies: [Anomaly] = []
        for write in effective {
            guard case .ok = write.outcome, !present(write) else { continue }
            let explainer = latest.first { $0.operation.id != write.id }
            if let explainer, explainer.complete >= write.invoke.microseconds { continue }
            var text = "\(write.summary) was acknowledged, but the final value of the key is \(quoted(final)), "
            var involved = [write.id]
            if let explainer {
                involved.append(explainer.operation.id)
                text += "and the latest write that could have left it, \(explainer.operation.summary), completed before this write was invoked."
            } else if final == nil {
                text += "and no delete could have followed it."
            } else {
                text += "which no write in the history can have left."
            }
            anomalies.append(Anomaly(kind: .lostWrite, key: key, operations: involved, explanation: text))
        }
        return anomalies
    }

    /// The substrings of a text of the given lengths, to test many fragments for occurrence in one
    /// long appended value in linear time rather than one substring search each.
    struct Substrings {
        private var present: Set<ArraySlice<UInt8>> = []

        init(of text: String, lengths: Set<Int>) {
            let bytes = Array(text.utf8)
            for length in lengths where length > 0 && length <= bytes.count {
                for start in 0...(bytes.count - length) { present.insert(bytes[start..<start + length]) }
            }
        }

        func contains(_ fragment: String) -> Bool { present.contains(ArraySlice(fragment.utf8)) }
    }

    /// Writes that replace the whole value (as opposed to appends, which extend it).
    static func replaces(_ write: HistoryOperation) -> Bool {
        switch write.command {
        case .put, .cas, .delete: true
        case .get, .append: false
        }
    }
}
