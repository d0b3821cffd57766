import ConsensusCore

/// "Every acknowledged write is in the final state, or overwritten by a later write."
///
/// A write acknowledged `ok` must be reflected in a replica's final value of its key unless some
/// other write to the key that may have taken effect (ok or indeterminate) was not finished
/// before it began, and so may legitimately come after it. Values written by the workload are
/// unique (`<stream>.<n>`), and appends end in `;`, so reflection can be read off the value.
enum AcknowledgedWrites {
    /// Acknowledged writes missing from `state`, described for a failure message.
    static func missing(in state: [String: String], history: [HistoryOperation]) -> [String] {
        var writesByKey: [String: [HistoryOperation]] = [:]
        for operation in history where !operation.command.isRead { writesByKey[operation.command.key, default: []].append(operation) }
        var lost: [String] = []
        for key in writesByKey.keys.sorted() {
            let writes = writesByKey[key]!
            let value = state[key]
            for write in writes where write.outcome == .ok(.done) {
                if isReflected(write.command, in: value) { continue }
                let overwritten = writes.contains { other in
                    other.id != write.id && mayReplace(other.command, write.command) && mayHaveTakenEffect(other)
                        && !(other.complete.map { $0 < write.invoke } ?? false)
                }
                if !overwritten { lost.append("op \(write.id) \(write.command) (final value \(value ?? "absent"))") }
            }
        }
        return lost
    }

    static func isReflected(_ command: Command, in value: String?) -> Bool {
        switch command {
        case .put(_, let written), .cas(_, _, let written):
            // The value written, possibly followed by appended fragments (which start with a letter).
            guard let value, value.hasPrefix(written) else { return false }
            return value.count == written.count || value.dropFirst(written.count).first!.isLetter
        case .append(_, let fragment):
            return value?.contains(fragment) ?? false
        case .delete:
            return value == nil
        case .get:
            return true
        }
    }

    /// Whether `other` could make `command`'s effect invisible: anything but an append replaces a
    /// value; an append only hides a delete.
    static func mayReplace(_ other: Command, _ command: Command) -> Bool {
        switch other {
        case .get: false
        case .append: if case .delete = command { true } else { false }
        case .put, .cas, .delete: true
        }
    }

    static func mayHaveTakenEffect(_ operation: HistoryOperation) -> Bool {
        switch operation.outcome {
        case .ok(.done), .indeterminate: true
        default: false
        }
    }
}
