import ConsensusCore

/// What one operation asserts about, or does to, a key's register, with values interned.
enum RegisterAction: Equatable {
    /// A get that returned this value (`noValue`: the key was missing).
    case read(RegisterSpace.ValueID)
    /// A cas the system answered with "mismatch": at some point in its interval the value was not
    /// the expected one. It changed nothing.
    case differs(RegisterSpace.ValueID)
    case put(RegisterSpace.ValueID)
    case delete
    case append(RegisterSpace.ValueID)
    case cas(expected: RegisterSpace.ValueID, value: RegisterSpace.ValueID)
}

/// One operation as the linearizability search sees it.
struct ModelOperation {
    /// Index of the operation in `KeyHistory.operations`.
    var source: Int32
    var action: RegisterAction
    var invoke: Int64
    /// When it must have taken effect by: its completion, or `Int64.max` for an optional operation.
    var deadline: Int64
    /// An indeterminate write: it may take effect at any time after its invocation, or never.
    var isOptional: Bool
    /// For an indeterminate write that the history proves took effect: the operation (source index)
    /// that observed its value, whose completion became its deadline; -1 otherwise.
    var forcedBy: Int32 = -1
    /// For an indeterminate write: the latest deadline of an operation that can tell its value
    /// apart. Once the search is past it, the write is only good for making a cas mismatch hold,
    /// so the search applies it only right before one. `Int64.min`: nothing ever can.
    var observableUntil = Int64.max
}

/// One key's operations, prepared for the search: P-compositionality (Herlihy & Wing 1990, §3.3:
/// linearizability is local) lets the checker judge each key on its own, since every operation
/// touches exactly one key.
///
/// Preparation applies the semantics of outcomes: an ok operation took effect inside its interval
/// with the recorded result; a failed one took no effect and is dropped, except a cas answered
/// "cas-mismatch", which the system presented as an observation and becomes a `differs` read; an
/// indeterminate read carries no information and is dropped; an indeterminate write is optional.
struct KeyHistory {
    let key: String
    /// The key's operations, in id order; `ModelOperation.source` indexes this.
    let operations: [HistoryOperation]
    let space: RegisterSpace
    /// Operations that must be linearized, in order of deadline (the search's return order).
    let mandatory: [ModelOperation]
    /// Optional operations, in order of invocation.
    let optional: [ModelOperation]
    /// For values written by optional operations: when the operations observing them are invoked.
    let observers: [RegisterSpace.ValueID: ObserverTimes]
    /// Per value: a text that a mandatory read or cas observes and that the register can hold
    /// during at most one stretch of any execution (see `uniqueTexts`).
    let uniqueTexts: [Bool]
    /// The single decomposition of each unique text into written values, in order.
    let uniqueSpellings: [RegisterSpace.ValueID: [RegisterSpace.ValueID]]
    /// How observed texts decompose into written values.
    let pieces: TextPieces
    /// Per fragment that is a piece of unique texts: where each of them needs it (`AppendTarget`).
    let appendTargets: [RegisterSpace.ValueID: [AppendTarget]]

    /// Per proper prefix of a unique text (through one of its pieces), what must follow it.
    let prefixNeeds: [PrefixNeed]

    /// While the register spells `text` up to `length` bytes, leaving that spelling other than by
    /// appending the text's next piece means the text is never spelled.
    struct PrefixNeed {
        var text: RegisterSpace.ValueID
        var length: Int
        var hash: UInt64
        var nextLength: Int
        var nextHash: UInt64
        /// The latest deadline of the text's mandatory observers: the needs likeliest to be still
        /// pending come first.
        var lastDeadline: Int64
    }

    /// A unique text that an append's fragment is a piece of: the append must be applied where the
    /// register spells the text up to and including the fragment, or the text is never spelled.
    struct AppendTarget {
        var text: RegisterSpace.ValueID
        /// Length in bytes and hash (`RegisterSpace.prefixHash`) of the text through the fragment.
        var length: Int
        var hash: UInt64
    }

    init(key: String, operations: [HistoryOperation]) {
        self.key = key
        self.operations = operations
        var interned: [String: RegisterSpace.ValueID] = [:]
        var values = [""]
        // Most operations bring a value of their own: growing the table step by step was a few
        // percent of the preparation.
        interned.reserveCapacity(operations.count)
        values.reserveCapacity(operations.count + 1)
        func intern(_ value: String?) -> RegisterSpace.ValueID {
            guard let value else { return RegisterSpace.noValue }
            if let id = interned[value] { return id }
            let id = RegisterSpace.ValueID(values.count)
            interned[value] = id
            values.append(value)
            return id
        }
        var model: [ModelOperation] = []
        for (index, operation) in operations.enumerated() {
            guard let (action, isOptional) = Self.action(of: operation, intern: intern) else { continue }
            model.append(ModelOperation(
                source: Int32(index), action: action, invoke: operation.invoke.microseconds,
                deadline: operation.complete?.microseconds ?? Int64.max, isOptional: isOptional))
        }
        let hasAppends = model.contains { if case .append = $0.action { true } else { false } }
        var pieces = TextPieces(model, values: values, hasAppends: hasAppends)
        var observations = Observations(model, values: values, pieces: &pieces)
        // A promoted cas now requires its expected value too, which may promote the writes that
        // built it: repeat until nothing changes.
        while Self.promoteObservedWrites(&model, observations: observations, valueCount: values.count) {
            observations = Observations(model, values: values, pieces: &pieces)
        }
        Self.boundObservation(&model, observations: observations, values: values)
        observers = observations.observers
        (uniqueTexts, uniqueSpellings) = Self.uniqueTexts(model, values: values, pieces: &pieces)
        self.pieces = pieces
        (appendTargets, prefixNeeds) = hasAppends ? Self.spellingNeeds(model, values: values, spellings: uniqueSpellings) : ([:], [])
        space = RegisterSpace(values: values, observed: observations.until.map { $0 > Int64.min }, unique: uniqueTexts, hasAppends: hasAppends)
        mandatory = model.filter { !$0.isOptional }.sorted { ($0.deadline, $0.invoke, $0.source) < ($1.deadline, $1.invoke, $1.source) }
        optional = model.filter(\.isOptional).sorted { ($0.invoke, $0.source) < ($1.invoke, $1.source) }
    }

    /// The register action of an operation and whether it is optional; `nil` when the operation
    /// says nothing about the register.
    static func action(of operation: HistoryOperation, intern: (String?) -> RegisterSpace.ValueID) -> (RegisterAction, Bool)? {
        let isOptional: Bool
        switch (operation.command, operation.outcome) {
        case (.get, .ok(.value(let read))):
            return (.read(intern(read)), false)
        case (.cas(_, let expected, _), .fail(.casMismatch)), (.cas(_, let expected, _), .ok(.casMismatch)):
            return (.differs(intern(expected)), false)
        case (.get, _), (_, .fail):
            return nil
        case (_, .ok):
            isOptional = false
        case (_, .indeterminate):
            isOptional = true
        }
        switch operation.command {
        case .get: return nil
        case .put(_, let value): return (.put(intern(value)), isOptional)
        case .delete: return (.delete, isOptional)
        case .append(_, let value): return (.append(intern(value)), isOptional)
        case .cas(_, let expected, let value): return (.cas(expected: intern(expected), value: intern(value)), isOptional)
        }
    }

    /// Bounds when each indeterminate write can still be observed, and drops those nothing can
    /// ever observe when the key has no cas mismatch.
    ///
    /// A write can be told apart only by an operation whose value (read, expected by a cas, or
    /// expected by a mismatching cas) is its value or has it as a piece (`Observations`). From
    /// the write to the next put or delete every state contains its value. Once every such
    /// operation has been linearized, no read or cas can come in between (none matches such a
    /// state), only appends (always valid) and mismatches (which all hold there). Then the write
    /// is useless unless a mismatch needs some value other than the current one: the search tries
    /// it only where a mismatch can use it, and treats its state as `junk`. With no mismatch in the key and nothing that could ever tell
    /// the write apart, it is dropped outright.
    static func boundObservation(_ model: inout [ModelOperation], observations: Observations, values: [String]) {
        for index in model.indices where model[index].isOptional {
            switch model[index].action {
            case .put(let value), .cas(_, let value), .append(let value):
                model[index].observableUntil = values[Int(value)].isEmpty ? Int64.max : observations.until[Int(value)]
            case .delete, .read, .differs:
                break
            }
        }
        if !observations.hasMismatch { model.removeAll { $0.isOptional && $0.observableUntil == Int64.min } }
    }

    /// Turns an indeterminate write into a mandatory one when the history proves it took effect.
    ///
    /// If exactly one operation writes a value, a state containing that value as a piece (the
    /// value itself, without appends) exists only after that write. If an ok read returned, or an
    /// ok cas expected, a value that has it as a piece in every decomposition, the write took
    /// effect before that observation completed, in every linearization: so it gets the
    /// observation's completion as its deadline. The search then no longer has to consider never
    /// applying it, which is what makes a history full of timeouts tractable. A deadline before
    /// the write's own invocation cannot be met, and the search reports exactly that.
    /// Returns whether a promoted cas may require more writes.
    static func promoteObservedWrites(_ model: inout [ModelOperation], observations: Observations, valueCount: Int) -> Bool {
        let writers = writerCounts(model, valueCount: valueCount)
        var promotedCas = false
        for index in model.indices where model[index].isOptional {
            let value: RegisterSpace.ValueID
            var requires = false
            switch model[index].action {
            case .put(let written), .append(let written): value = written
            case .cas(let expected, let written): (value, requires) = (written, expected != RegisterSpace.noValue)
            case .delete, .read, .differs: continue
            }
            let v = Int(value)
            guard writers[v] == 1, observations.requiredBy[v] >= 0 else { continue }
            model[index].isOptional = false
            model[index].deadline = observations.requiredUntil[v]
            model[index].forcedBy = observations.requiredBy[v]
            promotedCas = promotedCas || requires
        }
        return promotedCas
    }

    /// How many operations write each value (puts, cas and appends, whatever their outcome).
    static func writerCounts(_ model: [ModelOperation], valueCount: Int) -> [Int32] {
        var writers = [Int32](repeating: 0, count: valueCount)
        for operation in model {
            switch operation.action {
            case .put(let value), .cas(_, let value), .append(let value): writers[Int(value)] += 1
            case .delete, .read, .differs: break
            }
        }
        return writers
    }

    /// The observed texts the register can hold during at most one stretch of any execution, so
    /// that once it holds one and moves on, what still has to observe it never can: the zones of
    /// Gibbons & Korach (1997), where a value's lifetime must span from its first observer's
    /// completion to its last observer's invocation.
    ///
    /// Each operation takes effect at most once. Without appends a text is held only right after
    /// its writer, so one writer is enough. With appends a state is a first value followed by
    /// fragments: if the text has a single decomposition into written values and each piece has a
    /// single writer, only that sequence of operations spells it, and it cannot be spelled again
    /// once one of them is followed by anything else. Empty pieces are left out (appending "" keeps
    /// a value while "changing" nothing), and so is the absent state (every delete restores it).
    static func uniqueTexts(_ model: [ModelOperation], values: [String], pieces: inout TextPieces)
        -> (unique: [Bool], spellings: [RegisterSpace.ValueID: [RegisterSpace.ValueID]]) {
        var spellings: [RegisterSpace.ValueID: [RegisterSpace.ValueID]] = [:]
        let writers = writerCounts(model, valueCount: values.count)
        var unique = [Bool](repeating: false, count: values.count)
        var decided = [Bool](repeating: false, count: values.count)
        for operation in model where !operation.isOptional {
            let text: Int
            switch operation.action {
            case .read(let value), .cas(let value, _): text = Int(value)
            case .put, .delete, .append, .differs: continue
            }
            guard text != Int(RegisterSpace.noValue), !decided[text] else { continue }
            decided[text] = true
            guard !values[text].isEmpty, let decomposition = pieces.decomposition(of: text) else { continue }
            unique[text] = decomposition.allSatisfy { !values[Int($0)].isEmpty && writers[Int($0)] <= 1 }
            if unique[text] { spellings[RegisterSpace.ValueID(text)] = decomposition }
        }
        return (unique, spellings)
    }

    /// How many of a text's last pieces `spellingNeeds` covers. A text that appends keep
    /// extending is read again and again, so the pieces far back in it are covered by the shorter
    /// texts read when they were recent; without a bound, a key read n times as it grows by n
    /// appends would need n² entries (leaving some out only costs pruning).
    static let spellingWindow = 64

    /// What the unique texts of a key with appends need of its appends: for each appended
    /// fragment, the texts it is a piece of with the prefix it must complete (`AppendTarget`);
    /// for each proper prefix of a text at a piece boundary, what must follow it (`PrefixNeed`),
    /// likeliest still pending first. Such a prefix has a single decomposition too (another would
    /// extend to a second one of the text), so the register spells it during one stretch at most,
    /// and only on the way to the text.
    static func spellingNeeds(_ model: [ModelOperation], values: [String], spellings: [RegisterSpace.ValueID: [RegisterSpace.ValueID]])
        -> (targets: [RegisterSpace.ValueID: [AppendTarget]], needs: [PrefixNeed]) {
        var fragments = Set<RegisterSpace.ValueID>()
        var lastDeadline = [Int64](repeating: Int64.min, count: values.count)
        for operation in model {
            switch operation.action {
            case .append(let fragment): fragments.insert(fragment)
            case .read(let value), .cas(let value, _):
                if !operation.isOptional { lastDeadline[Int(value)] = max(lastDeadline[Int(value)], operation.deadline) }
            case .put, .delete, .differs: break
            }
        }
        var targets: [RegisterSpace.ValueID: [AppendTarget]] = [:]
        var needs: [PrefixNeed] = []
        for (id, decomposition) in spellings.sorted(by: { $0.key < $1.key }) {
            let text = Int(id)
            let ends = pieceEnds(decomposition, values: values)
            let hashes = RegisterSpace.prefixHashes(values[text], lengths: ends)
            for (index, piece) in decomposition.enumerated() where index + spellingWindow >= decomposition.count {
                if fragments.contains(piece) {
                    targets[piece, default: []].append(AppendTarget(text: id, length: ends[index], hash: hashes[index]))
                }
                guard index + 1 < ends.count else { continue }
                needs.append(PrefixNeed(text: id, length: ends[index], hash: hashes[index],
                                        nextLength: ends[index + 1], nextHash: hashes[index + 1], lastDeadline: lastDeadline[text]))
            }
        }
        // Texts that continue a prefix the same way need the same: keep the one with the latest
        // observers (likeliest still pending) and drop the others, which only cost time.
        var kept = Set<NeedKey>()
        let distinct = needs.sorted { ($0.lastDeadline, $0.text) > ($1.lastDeadline, $1.text) }.filter { need in
            kept.insert(NeedKey(hash: need.hash, nextHash: need.nextHash)).inserted
        }
        return (targets, distinct)
    }

    private struct NeedKey: Hashable {
        var hash: UInt64
        var nextHash: UInt64
    }

    /// Where each piece of a decomposition ends, in bytes.
    static func pieceEnds(_ decomposition: [RegisterSpace.ValueID], values: [String]) -> [Int] {
        var length = 0
        return decomposition.map { piece in
            length += values[Int(piece)].utf8.count
            return length
        }
    }
}
