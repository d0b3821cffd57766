/// What a key's operations observe of each written value: until when something can still tell
/// it apart, and by when it must have been written.
///
/// An operation observes the values it reads, expects in a cas, or expects in a cas answered
/// "mismatch" (which fails on exactly that value). Without appends a state is exactly one written
/// value; with appends it is a first value followed by appended fragments, so an observed value
/// observes each of its pieces (`ValuePieces`).
///
/// An indeterminate cas observes its expected value only as long as its own effect can matter:
/// past that, applying the write it expects and then the cas achieves nothing that applying the
/// write alone does not (both leave a value nothing can tell apart). So its horizon is its own
/// value's, found by iterating to a fixpoint along chains of such cas.
struct Observations {
    /// Per value: the latest deadline of an operation that can tell it apart; `Int64.min`: none.
    private(set) var until: [Int64]
    /// Per value: the earliest completion of an ok read or cas whose value contains it in every
    /// decomposition (so the value must have been written by then), and that operation's source
    /// index; -1 when none.
    private(set) var requiredUntil: [Int64]
    private(set) var requiredBy: [Int32]
    private(set) var hasMismatch = false
    /// For values written by indeterminate operations: when the reads and cas that can see them
    /// are invoked. (A mismatch can only need such a write in place of the current value, which
    /// the search handles where it happens.)
    private(set) var observers: [RegisterSpace.ValueID: ObserverTimes] = [:]

    init(_ model: [ModelOperation], values: [String], pieces: inout TextPieces) {
        let count = values.count
        // Per observed text: the latest deadline of a mandatory observer, the earliest of a
        // mandatory read or ok cas, and when the reads and cas observing it are invoked.
        var textUntil = [Int64](repeating: Int64.min, count: count)
        var textRequired = [Int64](repeating: Int64.max, count: count)
        var textRequiredBy = [Int32](repeating: -1, count: count)
        var textObservers: [Int: [(deadline: Int64, invoke: Int64)]] = [:]
        var pendingCas: [(expected: Int, written: Int, invoke: Int64)] = []
        // Per value: written by an indeterminate operation (an array, not a set: it is asked for
        // every piece of every observed text).
        var wanted = [Bool](repeating: false, count: count)
        var anyWanted = false
        for operation in model where operation.isOptional {
            switch operation.action {
            case .put(let value), .append(let value): wanted[Int(value)] = true; anyWanted = true
            case .cas(let expected, let value):
                wanted[Int(value)] = true
                anyWanted = true
                if expected != RegisterSpace.noValue { pendingCas.append((Int(expected), Int(value), operation.invoke)) }
            case .delete, .read, .differs: break
            }
        }
        for operation in model where !operation.isOptional {
            let t: Int
            switch operation.action {
            case .read(let value), .cas(let value, _): t = Int(value)
            case .differs(let value): t = Int(value); hasMismatch = true
            case .put, .delete, .append: continue
            }
            textUntil[t] = max(textUntil[t], operation.deadline)
            if case .differs = operation.action { continue }
            if anyWanted { textObservers[t, default: []].append((operation.deadline, operation.invoke)) }
            if operation.deadline < textRequired[t] {
                textRequired[t] = operation.deadline
                textRequiredBy[t] = operation.source
            }
        }
        until = [Int64](repeating: Int64.min, count: count)
        requiredUntil = [Int64](repeating: Int64.max, count: count)
        requiredBy = [Int32](repeating: -1, count: count)
        var observed: [Int: [(deadline: Int64, invoke: Int64)]] = [:]
        for text in 1..<count where textUntil[text] > Int64.min {
            for (value, inEvery) in pieces.of(text) {
                let v = Int(value)
                until[v] = max(until[v], textUntil[text])
                if wanted[v] { observed[v, default: []] += textObservers[text] ?? [] }
                if inEvery, textRequired[text] < requiredUntil[v] {
                    requiredUntil[v] = textRequired[text]
                    requiredBy[v] = textRequiredBy[text]
                }
            }
        }
        var changed = true
        while changed {
            changed = false
            for cas in pendingCas {
                let horizon = values[cas.written].isEmpty ? Int64.max : until[cas.written]
                guard horizon > Int64.min else { continue }
                for (value, _) in pieces.of(cas.expected) where until[Int(value)] < horizon {
                    until[Int(value)] = horizon
                    changed = true
                }
            }
        }
        for cas in pendingCas {
            let horizon = values[cas.written].isEmpty ? Int64.max : until[cas.written]
            guard horizon > Int64.min else { continue }
            for (value, _) in pieces.of(cas.expected) where wanted[Int(value)] {
                observed[Int(value), default: []].append((horizon, cas.invoke))
            }
        }
        observers = Dictionary(uniqueKeysWithValues: observed.map { (RegisterSpace.ValueID($0.key), ObserverTimes($0.value)) })
        for value in wanted.indices where wanted[value] && observers[RegisterSpace.ValueID(value)] == nil {
            observers[RegisterSpace.ValueID(value)] = ObserverTimes([])
        }
    }
}

/// When the operations that can observe a value are invoked, ordered by deadline: answers "of
/// those not yet linearized (deadline at or after h), which is invoked first?".
struct ObserverTimes {
    private let deadlines: [Int64]
    /// `earliestInvokeFrom[i]`: the earliest invocation among observers `i...`.
    private let earliestInvokeFrom: [Int64]

    init(_ observers: [(deadline: Int64, invoke: Int64)]) {
        let sorted = observers.sorted { ($0.deadline, $0.invoke) < ($1.deadline, $1.invoke) }
        deadlines = sorted.map(\.deadline)
        var earliest = [Int64](repeating: Int64.max, count: sorted.count)
        var running = Int64.max
        for index in sorted.indices.reversed() {
            running = min(running, sorted[index].invoke)
            earliest[index] = running
        }
        earliestInvokeFrom = earliest
    }

    /// The earliest invocation among observers whose deadline is not before `horizon`;
    /// `Int64.max` if none.
    func earliestInvoke(notBefore horizon: Int64) -> Int64 {
        let first = deadlines.partitionPoint { $0 >= horizon }
        return first < deadlines.count ? earliestInvokeFrom[first] : Int64.max
    }
}

/// The pieces of each observed text, and the text itself (a write of exactly that value is seen
/// too, even the empty string, which has no pieces); computed once per text for all the rounds of
/// a key's preparation.
struct TextPieces {
    private let splitter: ValuePieces?
    private let values: [String]
    /// Per text, its pieces once computed.
    private var known: [[(value: RegisterSpace.ValueID, inEvery: Bool)]?]

    /// Without appends a text is exactly one value, its only piece.
    init(_ model: [ModelOperation], values: [String], hasAppends: Bool) {
        splitter = hasAppends ? ValuePieces(model, values: values) : nil
        self.values = values
        known = Array(repeating: nil, count: values.count)
    }

    mutating func of(_ text: Int) -> [(value: RegisterSpace.ValueID, inEvery: Bool)] {
        if let found = known[text] { return found }
        var found = splitter?.pieces(of: values[text]) ?? [(RegisterSpace.ValueID(text), true)]
        if !found.contains(where: { $0.value == RegisterSpace.ValueID(text) }) { found.append((RegisterSpace.ValueID(text), false)) }
        known[text] = found
        return found
    }

    /// Whether some sequence of writes spells `text` (`writers`: how many operations write each value).
    func isSpellable(_ text: Int, writers: [Int32]) -> Bool {
        splitter.map { !$0.pieces(of: values[text]).isEmpty } ?? (writers[text] > 0)
    }

    /// The written values that spell `text` in its only decomposition, in order; `nil` if it has
    /// none or several. (`of` adds the text itself, not in every decomposition, when it is no
    /// piece: that entry is left out here.)
    mutating func decomposition(of text: Int) -> [RegisterSpace.ValueID]? {
        let found = of(text).filter { $0.inEvery || Int($0.value) != text }
        guard !found.isEmpty, found.allSatisfy(\.inEvery) else { return nil }
        return found.map(\.value)
    }
}
