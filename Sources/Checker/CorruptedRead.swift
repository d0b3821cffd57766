import ConsensusCore

/// A generated history with one read's value replaced by a value that cannot have been current at
/// any instant of that read's interval, in any linearization: the history is then certainly not
/// linearizable, which is what the checker's property tests assert it reports.
package struct CorruptedRead: Sendable {
    package enum Kind: String, Sendable, CaseIterable {
        /// A value created by a write invoked after the read completed.
        case future
        /// A value whose creating write completed before a write that replaced it was invoked, and
        /// that replacing write completed before the read was invoked.
        case stale
        /// A value no write produced.
        case invented
        /// A value that an acknowledged cas or append, completed before the read was invoked,
        /// provably consumed: the cas expected it, or a read saw the append's fragment after it.
        /// Its creator may overlap that write, so unlike `stale` no pair of intervals shows it.
        case lostWrite = "lost-write"
    }

    package var operations: [HistoryOperation]
    package var readID: Int
    var original: String?
    package var replacement: String
    package var kind: Kind
}

extension GeneratedHistory {
    /// Replaces the value of one ok read chosen with `seed` by a future, stale or invented one;
    /// `nil` if the history has no ok read.
    ///
    /// Every write's value is a unique token "v<id>", so a string value is produced only by its
    /// creating operation (the writer of its last token, with the same earlier tokens before it):
    /// a value created after the read, or created and then replaced entirely before the read,
    /// cannot be what the read saw.
    package func corruptingOneRead(seed: UInt64) -> CorruptedRead? {
        var random = DeterministicRandom(seed: seed, label: "corrupt-read")
        let reads = okReads
        guard !reads.isEmpty else { return nil }
        let read = reads[random.index(below: reads.count)]
        guard read.complete != nil else { return nil }
        var choices: [(CorruptedRead.Kind, [String])] = [(.invented, ["x\(read.id)"])]
        for kind in [CorruptedRead.Kind.future, .stale] {
            let values = impossibleValues(kind, for: read)
            if !values.isEmpty { choices.append((kind, values)) }
        }
        let (kind, values) = choices[random.index(below: choices.count)]
        return corrupting(read, with: values[random.index(below: values.count)], kind: kind)
    }

    /// Replaces the value of an ok read chosen with `seed` by an impossible value of `kind`; `nil`
    /// if no read of the history admits one.
    package func corruptingOneRead(seed: UInt64, kind: CorruptedRead.Kind) -> CorruptedRead? {
        var random = DeterministicRandom(seed: seed, label: "corrupt-read-\(kind.rawValue)")
        let reads = okReads
        guard !reads.isEmpty else { return nil }
        let start = random.index(below: reads.count)
        var timesSeen: [String: Int] = [:]
        if kind == .lostWrite { for value in reads.compactMap(\.readValue) { timesSeen[value, default: 0] += 1 } }
        for offset in reads.indices {
            let read = reads[(start + offset) % reads.count]
            guard read.complete != nil else { continue }
            // The read being changed is no evidence of what it no longer returns.
            let seen = Set(timesSeen.keys.filter { $0 != read.readValue || timesSeen[$0]! > 1 })
            let values = kind == .invented ? ["x\(read.id)"] : impossibleValues(kind, for: read, observed: seen)
            if !values.isEmpty { return corrupting(read, with: values[random.index(below: values.count)], kind: kind) }
        }
        return nil
    }

    private var okReads: [HistoryOperation] {
        operations.filter { if case .get = $0.command, case .ok(.value) = $0.outcome { true } else { false } }
    }

    private func corrupting(_ read: HistoryOperation, with replacement: String, kind: CorruptedRead.Kind) -> CorruptedRead {
        guard case .ok(.value(let original)) = read.outcome else { preconditionFailure("not an ok read") }
        var corrupted = operations
        corrupted[read.id].outcome = .ok(.value(replacement))
        return CorruptedRead(operations: corrupted, readID: read.id, original: original, replacement: replacement, kind: kind)
    }

    /// The values of the read's key that the read cannot have seen, for the reason `kind` names.
    /// - Parameter observed: for `lostWrite`, the values the history's ok reads returned.
    private func impossibleValues(_ kind: CorruptedRead.Kind, for read: HistoryOperation, observed: Set<String> = []) -> [String] {
        guard let readEnd = read.complete else { return [] }
        let epochs = epochs[read.command.key] ?? []
        var values: [String] = []
        for (index, epoch) in epochs.enumerated() {
            guard let value = epoch.value, let creator = epoch.creator.map({ operations[$0] }) else { continue }
            let ender = epoch.ender.map { operations[$0] }
            switch kind {
            case .future:
                if creator.invoke > readEnd { values.append(value) }
            case .stale:
                if let created = creator.complete, let ender, case .ok = ender.outcome, let replaced = ender.complete,
                   created < ender.invoke, replaced < read.invoke {
                    values.append(value)
                }
            case .lostWrite:
                guard let ender, case .ok = ender.outcome, let replaced = ender.complete, replaced < read.invoke else { continue }
                switch ender.command {
                case .cas(_, let expected, _) where expected == value:
                    values.append(value)
                case .append where isObserved(from: index + 1, of: epochs, observed):
                    values.append(value)
                default:
                    break
                }
            case .invented:
                break
            }
        }
        return values
    }

    /// Whether an ok read saw the epoch at `index` or one that appends built on it.
    private func isObserved(from index: Int, of epochs: [GeneratedHistory.Epoch], _ observed: Set<String>) -> Bool {
        var index = index
        while index < epochs.count, let value = epochs[index].value {
            if observed.contains(value) { return true }
            index += 1
            guard index < epochs.count, let creator = epochs[index].creator, case .append = operations[creator].command else { return false }
        }
        return false
    }
}

private extension HistoryOperation {
    var readValue: String? { if case .ok(.value(let value)) = outcome { value } else { nil } }
}
