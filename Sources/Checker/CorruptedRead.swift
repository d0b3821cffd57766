import ConsensusCore

/// A generated history with one read's value replaced by a value that cannot have been current at
/// any instant of that read's interval, in any linearization: the history is then certainly not
/// linearizable, which is what the checker's property tests assert it reports.
package struct CorruptedRead: Sendable {
    package enum Kind: String, Sendable {
        /// A value created by a write invoked after the read completed.
        case future
        /// A value whose creating write completed before a write that replaced it was invoked, and
        /// that replacing write completed before the read was invoked.
        case stale
        /// A value no write produced.
        case invented
    }

    package var operations: [HistoryOperation]
    package var readID: Int
    var original: String?
    package var replacement: String
    package var kind: Kind
}

extension GeneratedHistory {
    /// Replaces the value of one ok read chosen with `seed`; `nil` if the history has no ok read.
    ///
    /// Every write's value is a unique token "v<id>", so a string value is produced only by its
    /// creating operation (the writer of its last token, with the same earlier tokens before it):
    /// a value created after the read, or created and then replaced entirely before the read,
    /// cannot be what the read saw.
    package func corruptingOneRead(seed: UInt64) -> CorruptedRead? {
        var random = DeterministicRandom(seed: seed, label: "corrupt-read")
        let reads = operations.filter { if case .get = $0.command, case .ok(.value) = $0.outcome { true } else { false } }
        guard !reads.isEmpty else { return nil }
        let read = reads[random.index(below: reads.count)]
        guard case .ok(.value(let original)) = read.outcome, let readEnd = read.complete else { return nil }
        var future: [String] = [], stale: [String] = []
        for epoch in epochs[read.command.key] ?? [] {
            guard let value = epoch.value, let creator = epoch.creator.map({ operations[$0] }) else { continue }
            if creator.invoke > readEnd { future.append(value) }
            if let created = creator.complete, let ender = epoch.ender.map({ operations[$0] }),
               case .ok = ender.outcome, let replaced = ender.complete,
               created < ender.invoke, replaced < read.invoke {
                stale.append(value)
            }
        }
        var choices: [(CorruptedRead.Kind, [String])] = [(.invented, ["x\(read.id)"])]
        if !future.isEmpty { choices.append((.future, future)) }
        if !stale.isEmpty { choices.append((.stale, stale)) }
        let (kind, values) = choices[random.index(below: choices.count)]
        let replacement = values[random.index(below: values.count)]
        var corrupted = operations
        corrupted[read.id].outcome = .ok(.value(replacement))
        return CorruptedRead(operations: corrupted, readID: read.id, original: original, replacement: replacement, kind: kind)
    }
}
