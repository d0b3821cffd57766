import ConsensusCore

/// Direct proofs that a key is not linearizable, each found in about O(n log n) without the search,
/// for the histories the search finds hardest to refute: many concurrent clients, where exhausting
/// every order before a bad read takes longer than any budget.
///
/// Each rule is a fact every linearization would have to contradict, so a rule that fires is a
/// proof, and the explanation says which operations make it. The rules rely on unique texts
/// (`KeyHistory.uniqueTexts`): a value the register can hold during one stretch at most, which
/// must then span all of its observers — the zones of Gibbons & Korach (1997).
/// - An observed value no sequence of writes spells.
/// - An observed value one of whose pieces (in every decomposition) only writes invoked after the
///   observation completed produce.
/// - A unique value consumed by an acknowledged cas that expected it, or by an append that a
///   later read shows was applied to it, and observed again after that write completed; or
///   consumed twice.
/// - Two unique values whose zones overlap: each must be the register's value from its first
///   observer's completion to its last observer's invocation, and the key holds one value at a time.
enum ViolationProofs {
    /// The first proof found, as an anomaly; `nil` if none of the rules applies.
    static func find(_ history: KeyHistory) -> Anomaly? {
        let facts = Facts(history)
        return unwritten(facts) ?? future(facts) ?? consumed(facts) ?? overlappingZones(facts)
    }

    struct Signature: Hashable {
        var length: Int
        var hash: UInt64
    }

    /// What the rules share: the key's operations as the search sees them, by value.
    struct Facts {
        let history: KeyHistory
        /// Mandatory reads and ok cas, with the text they observe.
        let observations: [(operation: ModelOperation, text: Int)]
        /// Per value, the operations writing it.
        let writers: [[ModelOperation]]

        init(_ history: KeyHistory) {
            self.history = history
            var observations: [(ModelOperation, Int)] = []
            var writers = [[ModelOperation]](repeating: [], count: history.space.values.count)
            for operation in history.mandatory + history.optional {
                switch operation.action {
                case .read(let value), .cas(let value, _):
                    if !operation.isOptional, value != RegisterSpace.noValue { observations.append((operation, Int(value))) }
                case .put, .delete, .append, .differs: break
                }
                switch operation.action {
                case .put(let value), .cas(_, let value), .append(let value): writers[Int(value)].append(operation)
                case .delete, .read, .differs: break
                }
            }
            self.observations = observations
            self.writers = writers
        }

        func source(_ operation: ModelOperation) -> HistoryOperation { history.operations[Int(operation.source)] }
        func value(_ text: Int) -> String { quoted(history.space.values[text]) }

        func anomaly(_ text: String, _ involved: [ModelOperation], rule: String) -> Anomaly {
            Anomaly(kind: .nonLinearizable, key: history.key, operations: involved.map { source($0).id },
                    explanation: "no linearization of key \(quoted(history.key)) exists: " + text,
                    details: ["proof": .string(rule)])
        }
    }

    static func unwritten(_ facts: Facts) -> Anomaly? {
        let counts = facts.writers.map { Int32($0.count) }
        for (operation, text) in facts.observations where !facts.history.space.values[text].isEmpty {
            guard !facts.history.pieces.isSpellable(text, writers: counts) else { continue }
            return facts.anomaly("\(facts.source(operation).summary) observed \(facts.value(text)), which no write (or sequence of appends) produced.",
                                 [operation], rule: "unwritten-value")
        }
        return nil
    }

    static func future(_ facts: Facts) -> Anomaly? {
        var pieces = facts.history.pieces
        for (operation, text) in facts.observations where !facts.history.space.values[text].isEmpty {
            for (piece, inEvery) in pieces.of(text) where inEvery {
                guard let first = facts.writers[Int(piece)].min(by: { ($0.invoke, $0.source) < ($1.invoke, $1.source) }),
                      first.invoke > operation.deadline else { continue }
                let what = Int(piece) == text ? "it" : "its piece \(facts.value(Int(piece)))"
                let explanation = "\(facts.source(operation).summary) observed \(facts.value(text)), but \(what) was first written by "
                    + "\(facts.source(first).summary), invoked only after the observation completed."
                return facts.anomaly(explanation, [operation, first], rule: "future-value")
            }
        }
        return nil
    }

    static func consumed(_ facts: Facts) -> Anomaly? {
        let history = facts.history
        var consumers: [Int: [ModelOperation]] = [:]
        for operation in history.mandatory {
            if case .cas(let expected, _) = operation.action, history.uniqueTexts[Int(expected)] {
                consumers[Int(expected), default: []].append(operation)
            }
        }
        // An append whose fragment follows a unique text in another one was applied to it.
        var texts: [Signature: Int] = [:]
        for text in history.uniqueTexts.indices where history.uniqueTexts[text] {
            let value = history.space.values[text]
            texts[Signature(length: value.utf8.count, hash: RegisterSpace.prefixHashes(value, lengths: [value.utf8.count])[0])] = text
        }
        for (id, decomposition) in history.uniqueSpellings.sorted(by: { $0.key < $1.key }) {
            let text = Int(id)
            let ends = KeyHistory.pieceEnds(decomposition, values: history.space.values)
            let hashes = RegisterSpace.prefixHashes(history.space.values[text], lengths: ends)
            for index in max(1, decomposition.count - KeyHistory.spellingWindow)..<max(1, decomposition.count) {
                guard let consumed = texts[Signature(length: ends[index - 1], hash: hashes[index - 1])],
                      history.space.values[text].utf8.starts(with: history.space.values[consumed].utf8) else { continue }
                for writer in facts.writers[Int(decomposition[index])] where !writer.isOptional {
                    if case .append = writer.action, !(consumers[consumed] ?? []).contains(where: { $0.source == writer.source }) {
                        consumers[consumed, default: []].append(writer)
                    }
                }
            }
        }
        var lastObserver: [Int: ModelOperation] = [:]
        for (operation, text) in facts.observations where operation.invoke > lastObserver[text]?.invoke ?? Int64.min {
            lastObserver[text] = operation
        }
        for text in consumers.keys.sorted() {
            let ends = consumers[text]!.sorted { $0.source < $1.source }
            if ends.count > 1 {
                let text = "\(facts.value(text)) can be the value only once, yet both \(facts.source(ends[0]).summary) and "
                    + "\(facts.source(ends[1]).summary) replaced it (each needs it right before it)."
                return facts.anomaly(text, [ends[0], ends[1]], rule: "consumed-twice")
            }
            if let end = ends.first, let observer = lastObserver[text], observer.invoke > end.deadline {
                let text = "\(facts.source(end).summary) replaced \(facts.value(text)) and completed before "
                    + "\(facts.source(observer).summary) was invoked, which still observed it; the value can be the register's only once."
                return facts.anomaly(text, [end, observer], rule: "consumed-value")
            }
        }
        return nil
    }

    static func overlappingZones(_ facts: Facts) -> Anomaly? {
        struct Zone {
            var text: Int
            var first: ModelOperation
            var last: ModelOperation
        }
        var zones: [Int: Zone] = [:]
        for (operation, text) in facts.observations where facts.history.uniqueTexts[text] {
            var zone = zones[text] ?? Zone(text: text, first: operation, last: operation)
            if operation.deadline < zone.first.deadline { zone.first = operation }
            if operation.invoke > zone.last.invoke { zone.last = operation }
            zones[text] = zone
        }
        let forward = zones.values.filter { $0.first.deadline < $0.last.invoke }
            .sorted { ($0.first.deadline, $0.text) < ($1.first.deadline, $1.text) }
        var widest: Zone?
        for zone in forward {
            if let open = widest, zone.first.deadline < open.last.invoke {
                let stretches = [open, zone].map { zone in
                    "\(facts.value(zone.text)) from the completion of \(facts.source(zone.first).summary) until \(facts.source(zone.last).summary) was invoked"
                }
                let text = "the register must hold " + stretches.joined(separator: ", and ")
                    + "; these stretches overlap, and each value can be the register's only once."
                return facts.anomaly(text, [open.first, open.last, zone.first, zone.last], rule: "overlapping-zones")
            }
            if zone.last.invoke > widest?.last.invoke ?? Int64.min { widest = zone }
        }
        return nil
    }
}
