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
            // The two latest completions (indeterminate: never completed) among writes that may
            // have taken effect, per kind of write that can hide another.
            var replacers = LatestTwo(), appends = LatestTwo()
            for write in writes where mayHaveTakenEffect(write) {
                if case .append = write.command { appends.add(write) } else { replacers.add(write) }
            }
            for write in writes where write.outcome == .ok(.done) {
                if isReflected(write.command, in: value) { continue }
                var overwritten = replacers.latest(excluding: write.id) >= write.invoke
                if case .delete = write.command { overwritten = overwritten || appends.latest(excluding: write.id) >= write.invoke }
                if !overwritten { lost.append("op \(write.id) \(write.command) (final value \(value ?? "absent"))") }
            }
        }
        return lost
    }

    /// The two latest completion times of a set of operations, so "the latest other than X" is O(1).
    struct LatestTwo {
        private var first: (id: Int, time: Instant)?
        private var second: (id: Int, time: Instant)?

        mutating func add(_ operation: HistoryOperation) {
            let time = operation.complete ?? .distantFuture
            if first == nil || time > first!.time {
                second = first
                first = (operation.id, time)
            } else if second == nil || time > second!.time {
                second = (operation.id, time)
            }
        }

        /// Latest completion among operations other than `id` (`.zero - 1` when there is none).
        func latest(excluding id: Int) -> Instant {
            let none = Instant(microseconds: -1)
            guard let first else { return none }
            return first.id != id ? first.time : (second?.time ?? none)
        }
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
