/// The linearizability search for one key: Wing & Gong's algorithm (1993) with Lowe's
/// memoisation (2017), the "WGL" algorithm of Knossos and Porcupine, for a single register.
///
/// Operations sit in a doubly linked list of call and return entries ordered by time (calls
/// before returns at equal times, so operations that merely touch are treated as concurrent, the
/// reading that never condemns a good history). The operations that may be linearized next are
/// those whose call comes before the first return still in the list: an operation whose return has
/// been reached must already have taken effect. The search linearizes a candidate by removing its
/// entries ("lifting" it) and backtracks, restoring them, when it reaches a return whose operation
/// no order explains. The memo (`SearchMemo`) records every configuration (set of linearized
/// operations, register state) reached; reaching one again cannot lead anywhere new, so it is
/// pruned. That bounds the search by the number of distinct configurations, not of orders.
///
/// Further pruning, each exact (it never changes the verdict, only the work):
/// - A pending read (or cas mismatch) that the current state satisfies is linearized at once, as
///   a forced move with no alternative: it changes nothing, and every operation that must precede
///   it already has, so any linearization can be reordered to take it now.
/// - A unique observed text (`KeyHistory.uniqueTexts`: with unique written values, most of them)
///   is held during one stretch at most, which must span all its observers (Gibbons & Korach's
///   zones): while the register holds one, nothing that changes it is tried until its last
///   mandatory observer has been linearized; nor is one created while a mandatory operation that
///   cannot happen during it (a write, a read of another value) is due before its last observer is
///   invoked. With appends, a piece of such a text is appended only where it continues the text's
///   spelling, and while the register spells a proper prefix of one, only the text's next piece
///   may change it. Each rule turns a wrong order into a dead end where it starts, not where the
///   stranded observer's return is reached, after every interleaving of what lies in between.
/// - Mandatory candidates are tried earliest deadline first: the likeliest next operation; or in
///   the order of a guide, a near-linearization built from the key's epochs.
/// - Indeterminate writes have no return entry: they may take effect at any time after their
///   call, or never (the search succeeds once no mandatory operation is left). They are tried
///   after the mandatory candidates.
/// - Indeterminate writes with the same effect (all deletes, all puts of one value, …) are
///   interchangeable once invoked, so only the earliest unused one of a group is ever tried.
/// - An indeterminate write that would leave the state unchanged is never tried: skipping it
///   leaves strictly more options for the rest of the history.
/// - An indeterminate write must be observed (by a read, a cas, a cas mismatch) before the next
///   put or delete overwrites it: if only appends come between, removing the write changes no
///   operation's result. This keeps a never-applied timeout from being carried through the rest
///   of the history as a copy of every configuration.
/// - An indeterminate put or append whose value no operation can observe before a pending put or
///   delete must have overwritten it is not tried (it can always be moved later, to just before
///   what observes it), unless a pending mismatch needs a change now and no write that nothing
///   else can observe is at hand to provide it.
/// - Once nothing but a cas mismatch can still tell an indeterminate write apart
///   (`ModelOperation.observableUntil`), it leaves `RegisterSpace.junk`, a state nothing left can
///   tell from any other such state, and it is tried only where a mismatch can use it: a put or
///   append only when a pending mismatch is contradicted by the current state (it can always be
///   moved that late), a cas only if a mismatch can still come before the next put or delete.
///   Such writes are interchangeable from then on within a class (puts and appends; cas by
///   expected value), so only the earliest of a class is tried, the memo counts them per class
///   instead of naming them, and configurations that spent fewer of them dominate (`SearchMemo`).
/// - The linearized set is "all mandatory operations of rank below `prefix`" plus hash-consed
///   sorted sets (mandatory operations beyond the prefix, which are few; optional operations
///   applied), so a configuration is a handful of integers whatever the history's length.
struct LinearizabilitySearch {
    /// Why a search ended without a verdict.
    enum Exhaustion: Equatable {
        case steps(Int)
        case wallClock
    }

    enum Result {
        case linearizable
        case notLinearizable(DeadEnd)
        case unknown(Exhaustion)
    }

    /// The deepest point the search reached before having to backtrack: the longest linearizable
    /// prefix it found and the operation that could not follow it.
    struct DeadEnd {
        /// Operations linearized at that point (mandatory and optional).
        var prefixLength: Int
        /// The last few operations of the prefix, oldest first (indices into `operations`).
        var recentPrefix: [Int32]
        /// The mandatory operation whose return was reached without it being linearizable.
        var blocking: Int32
        /// The mandatory operations that were candidates at that point (called, not linearized).
        var pending: [Int32]
        /// The register's state after the prefix.
        var state: RegisterSpace.StateID
    }

    private struct Frame {
        var operation: Int32
        /// The configuration before the operation was linearized.
        var before: SearchMemo.Configuration
        /// Where to resume among the candidates: for a mandatory operation, its position among
        /// them plus one; for an optional one, the first return entry when it was chosen.
        var resume: Int32
        /// A forced move: undoing it leaves nothing else to try in the configuration before it.
        var forced: Bool
    }

    private enum Resume {
        /// A configuration not seen before: forced moves first, then every candidate.
        case fresh
        /// Nothing left to try here (a forced move was undone).
        case exhausted
        /// Try mandatory candidates from this position in their order, then optional ones.
        case mandatory(from: Int)
        /// Scan optional candidates after this entry of the optional list.
        case optional(after: Int32, firstReturn: Int32)
    }

    /// Mandatory operations (ranks `0..<mandatoryCount`, by deadline) followed by optional ones.
    let operations: [ModelOperation]
    let mandatoryCount: Int
    private(set) var space: RegisterSpace
    private(set) var steps = 0

    // The mandatory list, circular, entry 0 the head: operation u has call entry 2u+1 and return
    // entry 2u+2. The head doubles as the end of the list, a "return" at the end of time.
    private var next: [Int32]
    private var previous: [Int32]
    private let entryTime: [Int64]

    // The optional list, circular, entry 0 the head: optional operation i has entry i+1.
    private var optionalNext: [Int32]
    private var optionalPrevious: [Int32]
    private let group: [Int32]
    private let nextInGroup: [Int32]
    private var groupHead: [Int32]
    /// Per optional operation, its class when applied only for a cas mismatch: 0 for puts and
    /// appends (any state becomes junk), 1… for a cas by expected value; -1 for a delete (never).
    private let mismatchClass: [Int32]
    /// Per optional put or append: when the reads and cas that can see its value are invoked.
    /// Such a write can be moved later up to its first observer, so it need not be tried when a
    /// put or delete must come before any observer can (unless a mismatch wants it now).
    private let movableObservers: [ObserverTimes?]
    /// Per mandatory operation: a put or delete, which overwrites whatever was there.
    private let isBlindWrite: [Bool]
    /// Per mismatch class of cas: when the mismatches such a cas can serve are invoked.
    private let mismatchesServed: [ObserverTimes]
    /// Per optional put: when the mismatches expecting exactly its value are invoked.
    private let mismatchesOnValue: [ObserverTimes?]
    private var triedClasses: [Int32] = []
    /// Per mandatory operation: the unique text it observes (`KeyHistory.uniqueTexts`), or -1.
    private let observedText: [Int32]
    /// Per unique text: its mandatory observers not yet linearized.
    private var pendingObservers: [Int32]
    /// Per unique text: its mandatory observers (ranks).
    private let observersOf: [Int32: [Int32]]
    /// Per mandatory operation: linearized.
    private var linearized: [Bool]
    /// Whether the zone pruning is on: off only to test that it never changes a verdict.
    private let zones: Bool
    /// Per operation (mandatory, then optional): for an append, the unique texts that need its
    /// fragment on a particular prefix.
    private let appendTargets: [[KeyHistory.AppendTarget]]
    private let prefixNeeds: [KeyHistory.PrefixNeed]
    /// `prefixNeeds` by the signature of the prefix.
    private let needsBySignature: [PrefixSignature: [Int32]]
    /// Per state, an index into `stateNeeds` (-1: none, -2: not looked up yet).
    private var stateNeedList: [Int32] = []
    /// The prefix needs a state spells exactly, likeliest pending first.
    private var stateNeeds: [[Int32]] = []

    private struct PrefixSignature: Hashable {
        var length: Int
        var hash: UInt64
    }

    private var sets = SortedSetTable()
    private var memo: SearchMemo
    private var frames: [Frame] = []
    private var candidates: [Int32] = []
    /// Per mandatory operation, its rank in the guide; `nil`: earliest deadline first.
    private let priority: [Int32]?
    private var current = SearchMemo.Configuration(
        state: RegisterSpace.absent, unobserved: false, prefix: 0, mandatory: SortedSetTable.empty,
        optional: SortedSetTable.empty, servedMismatches: SortedSetTable.empty)
    private var deepest: DeadEnd?

    /// - Parameter guide: per operation of the history (by source index), its position in a
    ///   near-linearization (`EpochWitness.Attempt`): candidates are then tried in that order
    ///   rather than earliest deadline first, so that the search follows the guide and backtracks
    ///   only where it is wrong. The order changes the work, never the verdict.
    init(_ history: KeyHistory, zones: Bool = true, guide: [Int32]? = nil) {
        self.zones = zones
        operations = history.mandatory + history.optional
        mandatoryCount = history.mandatory.count
        priority = guide.map { guide in history.mandatory.map { guide[Int($0.source)] } }
        space = history.space
        memo = SearchMemo(expected: operations.count)

        let entryCount = 2 * mandatoryCount + 1
        var time = [Int64](repeating: Int64.max, count: entryCount)
        var order: [Int32] = []
        order.reserveCapacity(entryCount - 1)
        for (u, operation) in history.mandatory.enumerated() {
            time[2 * u + 1] = operation.invoke
            time[2 * u + 2] = operation.deadline
            order.append(Int32(2 * u + 1))
            order.append(Int32(2 * u + 2))
        }
        // Time, then calls before returns, then rank: a total order, so the list is deterministic.
        order.sort { a, b in
            let ta = time[Int(a)], tb = time[Int(b)]
            if ta != tb { return ta < tb }
            let aReturns = a & 1 == 0, bReturns = b & 1 == 0
            if aReturns != bReturns { return bReturns }
            return a < b
        }
        entryTime = time
        (next, previous) = Self.circularList(order, count: entryCount)

        let optionalCount = history.optional.count
        (optionalNext, optionalPrevious) = Self.circularList((0..<optionalCount).map { Int32($0 + 1) }, count: optionalCount + 1)
        var groups: [GroupKey: Int32] = [:]
        var lastInGroup: [Int32] = []
        var group = [Int32](repeating: 0, count: optionalCount)
        var nextInGroup = [Int32](repeating: -1, count: optionalCount)
        var groupHead: [Int32] = []
        for (i, operation) in history.optional.enumerated() {
            let key = GroupKey(operation.action, space: history.space)
            if let g = groups[key] {
                group[i] = g
                nextInGroup[Int(lastInGroup[Int(g)])] = Int32(i)
                lastInGroup[Int(g)] = Int32(i)
            } else {
                let g = Int32(groupHead.count)
                groups[key] = g
                group[i] = g
                groupHead.append(Int32(i))
                lastInGroup.append(Int32(i))
            }
        }
        self.group = group
        self.nextInGroup = nextInGroup
        self.groupHead = groupHead
        movableObservers = history.optional.map { operation in
            switch operation.action {
            // The empty string hides in every value ("" then "b" reads as "b"): never pruned so.
            case .put(let value), .append(let value): history.space.values[Int(value)].isEmpty ? nil : history.observers[value]
            case .cas, .delete, .read, .differs: nil
            }
        }
        isBlindWrite = history.mandatory.map { operation in
            switch operation.action {
            case .put, .delete: true
            case .append, .cas, .read, .differs: false
            }
        }
        var expectedClass: [RegisterSpace.ValueID: Int32] = [:]
        mismatchClass = history.optional.map { operation in
            switch operation.action {
            case .put, .append: return 0
            case .cas(let expected, _):
                if let known = expectedClass[expected] { return known }
                let fresh = Int32(expectedClass.count + 1)
                expectedClass[expected] = fresh
                return fresh
            case .delete, .read, .differs: return -1
            }
        }
        // A timed-out cas expecting `e` can be needed for a mismatch expecting `e` followed by
        // fragments: between the cas and the next put or delete only appends change the value.
        let index = MismatchIndex(history)
        var served = [ObserverTimes](repeating: ObserverTimes([]), count: expectedClass.count + 1)
        for (expected, mismatchClass) in expectedClass {
            served[Int(mismatchClass)] = if expected == RegisterSpace.noValue {
                index.everyMismatch
            } else if history.space.hasAppends {
                index.expecting(prefix: history.space.values[Int(expected)])
            } else {
                index.expecting(expected)
            }
        }
        mismatchesServed = served
        mismatchesOnValue = history.optional.map { operation in
            guard case .put(let value) = operation.action else { return nil }
            return index.expecting(value)
        }
        observedText = history.mandatory.map { operation in
            switch operation.action {
            case .read(let value), .cas(let value, _): history.uniqueTexts[Int(value)] ? value : -1
            case .put, .delete, .append, .differs: -1
            }
        }
        appendTargets = operations.map { operation in
            if case .append(let fragment) = operation.action { history.appendTargets[fragment] ?? [] } else { [] }
        }
        prefixNeeds = history.prefixNeeds
        var bySignature: [PrefixSignature: [Int32]] = [:]
        for (index, need) in history.prefixNeeds.enumerated() {
            bySignature[PrefixSignature(length: need.length, hash: need.hash), default: []].append(Int32(index))
        }
        needsBySignature = bySignature
        var pending = [Int32](repeating: 0, count: history.space.values.count)
        var observersOf: [Int32: [Int32]] = [:]
        for (u, text) in observedText.enumerated() where text >= 0 {
            pending[Int(text)] += 1
            observersOf[text, default: []].append(Int32(u))
        }
        pendingObservers = pending
        self.observersOf = observersOf
        linearized = [Bool](repeating: false, count: mandatoryCount)
    }

    /// Operations with the same transition function: interchangeable when indeterminate.
    private struct GroupKey: Hashable {
        var kind: Int8
        var a: Int32
        var b: Int32

        init(_ action: RegisterAction, space: RegisterSpace) {
            switch action {
            case .put(let value): (kind, a, b) = (0, space.written(value), 0)
            case .delete: (kind, a, b) = (1, 0, 0)
            case .append(let fragment): (kind, a, b) = (2, fragment, 0)
            case .cas(let expected, let value): (kind, a, b) = (3, expected, space.written(value))
            case .read(let value): (kind, a, b) = (4, value, 0)
            case .differs(let value): (kind, a, b) = (5, value, 0)
            }
        }
    }

    private static func circularList(_ order: [Int32], count: Int) -> (next: [Int32], previous: [Int32]) {
        var next = [Int32](repeating: 0, count: count)
        var previous = [Int32](repeating: 0, count: count)
        var last: Int32 = 0
        for entry in order {
            next[Int(last)] = entry
            previous[Int(entry)] = last
            last = entry
        }
        next[Int(last)] = 0
        previous[0] = last
        return (next, previous)
    }

    @inline(__always) private static func isReturn(_ entry: Int32) -> Bool { entry & 1 == 0 }
    @inline(__always) private static func operation(ofEntry entry: Int32) -> Int { Int(entry - 1) >> 1 }

    /// Once `run` has found a linearization: its operations in order, as indices into
    /// `KeyHistory.operations`.
    var linearization: [Int32] { frames.map { operations[Int($0.operation)].source } }

    /// Runs the search until a verdict or until `maxSteps` attempts (the deterministic budget) or
    /// the wall-clock deadline, which can only ever turn the verdict into "unknown".
    mutating func run(maxSteps: Int, deadline: ContinuousClock.Instant?) -> Result {
        _ = memo.visit(current, sets: sets)
        var resume = Resume.fresh
        var rounds = 0
        while true {
            if next[0] == 0 { return .linearizable }
            if steps >= maxSteps { return .unknown(.steps(maxSteps)) }
            rounds += 1
            if rounds & 1023 == 0, let deadline, ContinuousClock.now >= deadline {
                return .unknown(.wallClock)
            }
            if case .fresh = resume {
                switch linearizeObservation() {
                case .linearized: continue
                case .failed: resume = .exhausted
                case .none: break
                }
            }
            if advance(from: resume) {
                resume = .fresh
                continue
            }
            memo.markFailed(current)
            guard let frame = frames.popLast() else {
                // The root is exhausted, so some dead end was recorded on the way here.
                return .notLinearizable(deepest!)
            }
            resume = backtrack(frame)
        }
    }

    private enum ObservationStep { case linearized, failed, none }

    /// Linearizes a pending read (or cas mismatch) that the current state satisfies, as a forced
    /// move: it changes nothing, and any linearization from here can be reordered to take it first
    /// (every operation that must precede it already has, since it is a candidate). So if the
    /// configuration with it linearized cannot succeed, neither can this one.
    private mutating func linearizeObservation() -> ObservationStep {
        var entry = next[0]
        while !Self.isReturn(entry) {
            let u = Self.operation(ofEntry: entry)
            let holds: Bool
            switch operations[u].action {
            case .read(let value): holds = space.holds(current.state, value)
            case .differs(let value): holds = !space.holds(current.state, value)
            case .put, .delete, .append, .cas: holds = false
            }
            if holds {
                return attempt(u, resume: 0, forced: true, use: .effect) ? .linearized : .failed
            }
            entry = next[Int(entry)]
        }
        return .none
    }

    /// Tries the candidates from `resume` on, mandatory ones first; true once one is linearized.
    private mutating func advance(from resume: Resume) -> Bool {
        var firstReturn: Int32
        var resumeAfter: Int32 = 0
        switch resume {
        case .exhausted:
            return false
        case .fresh, .mandatory:
            var position = 0
            if case .mandatory(let start) = resume { position = start }
            firstReturn = collectCandidates()
            while position < candidates.count {
                if attempt(Int(candidates[position]), resume: Int32(position + 1), forced: false, use: .effect) { return true }
                position += 1
            }
        case .optional(let after, let first):
            firstReturn = first
            resumeAfter = after
        }
        if advanceOptional(after: resumeAfter, firstReturn: firstReturn) { return true }
        noteDeadEnd(firstReturn: firstReturn)
        return false
    }

    /// Fills `candidates` with the mandatory writes that may be linearized next, earliest
    /// deadline first, and returns the first return entry.
    ///
    /// Reads and mismatches are left out: none holds here, or the forced move would have taken
    /// it. Earliest deadline first, not list order: the operation that must take effect soonest
    /// is the likeliest to come next, and a wrong guess costs a whole subtree.
    private mutating func collectCandidates() -> Int32 {
        candidates.removeAll(keepingCapacity: true)
        var entry = next[0]
        while !Self.isReturn(entry) {
            let u = Self.operation(ofEntry: entry)
            switch operations[u].action {
            case .read, .differs: break
            case .put, .delete, .append, .cas: candidates.append(Int32(u))
            }
            entry = next[Int(entry)]
        }
        if let priority {
            candidates.sort { (priority[Int($0)], $0) < (priority[Int($1)], $1) }
        } else {
            candidates.sort()
        }
        return entry
    }

    /// How an operation is applied.
    private enum Use {
        /// For its own effect (an optional one: something must observe it before the next put
        /// or delete).
        case effect
        /// Only to make a pending mismatch hold, leaving `junk`.
        case forMismatch
    }

    /// Tries the optional candidates invoked by the first return, after entry `resumeAfter` of
    /// the optional list (0: from the start).
    ///
    /// A write nothing else can observe any more is applied only for a mismatch; such writes are
    /// interchangeable within their class, so only the first of each class in list order (the
    /// earliest invoked) is tried, and on resuming, the classes of the entries already passed
    /// count as tried. An observable put or append is applied only if something can observe it
    /// before a pending put or delete must overwrite it, or if a mismatch needs a change now and
    /// no write of the first kind is at hand (one of those could always take its place).
    private mutating func advanceOptional(after resumeAfter: Int32, firstReturn: Int32) -> Bool {
        let horizon = entryTime[Int(firstReturn)]
        var mismatchWaiting: Bool?
        var blindDeadline: Int64?
        var junkWriterAtHand: Bool?
        var appendAtHand: Bool?
        triedClasses.removeAll(keepingCapacity: true)
        var attempting = resumeAfter == 0
        var entry = optionalNext[0]
        while entry != 0 {
            let i = Int(entry) - 1
            let operation = operations[mandatoryCount + i]
            guard operation.invoke <= horizon else { return false }
            let passed = entry
            entry = optionalNext[Int(entry)]
            guard groupHead[Int(group[i])] == Int32(i) else { continue }
            let use: Use
            if operation.observableUntil >= horizon {
                if let observers = movableObservers[i] {
                    if blindDeadline == nil { blindDeadline = earliestPendingBlindWrite() }
                    let firstObserver = observers.earliestInvoke(notBefore: horizon)
                    if firstObserver == Int64.max || firstObserver > blindDeadline! {
                        // Only a mismatch can need it, and it can wait until just before the first
                        // operation that does: a mismatch contradicted now, or, for a put, an
                        // append after which a mismatch expecting exactly the put's value holds
                        // (moved past the append, the put would not do). None needs it if a junk
                        // writer is at hand.
                        if mismatchWaiting == nil { mismatchWaiting = pendingMismatchFails() }
                        if !mismatchWaiting! {
                            let firstOnValue = mismatchesOnValue[i]?.earliestInvoke(notBefore: horizon) ?? Int64.max
                            guard firstOnValue != Int64.max, firstOnValue <= blindDeadline! else { continue }
                            if appendAtHand == nil { appendAtHand = appendAvailable(horizon: horizon) }
                            guard appendAtHand! else { continue }
                        }
                        if junkWriterAtHand == nil { junkWriterAtHand = junkWriterAvailable(horizon: horizon) }
                        guard !junkWriterAtHand! else { continue }
                    }
                }
                use = .effect
            } else {
                guard !triedClasses.contains(mismatchClass[i]) else { continue }
                if mismatchClass[i] == 0 {
                    // A put or append can wait until just before the mismatch that needs it.
                    if mismatchWaiting == nil { mismatchWaiting = pendingMismatchFails() }
                    guard mismatchWaiting! else { continue }
                } else {
                    // A cas cannot (its expected value may be gone by then), but a mismatch must
                    // still come before the next put or delete for it to serve.
                    if blindDeadline == nil { blindDeadline = earliestPendingBlindWrite() }
                    let firstServed = mismatchesServed[Int(mismatchClass[i])].earliestInvoke(notBefore: horizon)
                    guard firstServed != Int64.max, firstServed <= blindDeadline! else { continue }
                }
                triedClasses.append(mismatchClass[i])
                use = .forMismatch
            }
            if !attempting {
                attempting = passed == resumeAfter
                continue
            }
            if attempt(mandatoryCount + i, resume: firstReturn, forced: false, use: use) { return true }
        }
        return false
    }

    /// Whether an append may be linearized next: a pending mandatory one, or a timed-out one.
    private func appendAvailable(horizon: Int64) -> Bool {
        var entry = next[0]
        while !Self.isReturn(entry) {
            if case .append = operations[Self.operation(ofEntry: entry)].action { return true }
            entry = next[Int(entry)]
        }
        entry = optionalNext[0]
        while entry != 0 {
            let operation = operations[mandatoryCount + Int(entry) - 1]
            guard operation.invoke <= horizon else { return false }
            if case .append = operation.action { return true }
            entry = optionalNext[Int(entry)]
        }
        return false
    }

    /// Whether a put or append that nothing else can observe any more is at hand.
    private func junkWriterAvailable(horizon: Int64) -> Bool {
        var entry = optionalNext[0]
        while entry != 0 {
            let i = Int(entry) - 1
            let operation = operations[mandatoryCount + i]
            guard operation.invoke <= horizon else { return false }
            if operation.observableUntil < horizon, mismatchClass[i] == 0 { return true }
            entry = optionalNext[Int(entry)]
        }
        return false
    }

    /// The deadline of the first put or delete not yet linearized (`Int64.max` if none): an
    /// indeterminate write applied now is overwritten by then.
    private func earliestPendingBlindWrite() -> Int64 {
        var rank = Int(current.prefix)
        var linearized = current.mandatory
        while rank < mandatoryCount {
            while let first = sets.first(linearized), Int(first) < rank { linearized = sets.removingFirst(linearized) }
            if sets.first(linearized) != Int32(rank), isBlindWrite[rank] { return operations[rank].deadline }
            rank += 1
        }
        return Int64.max
    }

    /// Whether a pending cas mismatch is contradicted by the current state (it expected exactly
    /// the current value, so it should have matched).
    private mutating func pendingMismatchFails() -> Bool {
        var entry = next[0]
        while !Self.isReturn(entry) {
            if case .differs(let value) = operations[Self.operation(ofEntry: entry)].action, space.holds(current.state, value) { return true }
            entry = next[Int(entry)]
        }
        return false
    }

    /// Linearizes operation `u` next if the register allows it and the configuration is new (and
    /// not dominated by one that failed).
    private mutating func attempt(_ u: Int, resume: Int32, forced: Bool, use: Use) -> Bool {
        steps += 1
        let action = operations[u].action
        guard var after = transition(action) else { return false }
        if use == .forMismatch { after = RegisterSpace.junk }
        let isOptional = u >= mandatoryCount
        if isOptional, after == current.state { return false }
        if zones, after != current.state, leavesZone(u, after: after, use: use) { return false }
        guard let unobservedAfter = awaitsObservation(after: action, isOptional: isOptional) else { return false }
        var successor = current
        successor.state = after
        successor.unobserved = unobservedAfter
        if use == .forMismatch {
            let spent = mismatchClass[u - mandatoryCount]
            successor.servedMismatches = sets.inserting(spent, into: current.servedMismatches, precedes: >)
        } else if isOptional {
            successor.optional = sets.inserting(Int32(u), into: current.optional, precedes: >)
        } else if Int32(u) == current.prefix {
            successor.prefix += 1
            while sets.first(successor.mandatory) == successor.prefix {
                successor.mandatory = sets.removingFirst(successor.mandatory)
                successor.prefix += 1
            }
        } else {
            successor.mandatory = sets.inserting(Int32(u), into: current.mandatory, precedes: <)
        }
        guard memo.visit(successor, sets: sets) else { return false }
        frames.append(Frame(operation: Int32(u), before: current, resume: resume, forced: forced))
        current = successor
        lift(u)
        return true
    }

    /// The zone pruning: whether changing the state with `u` to `after` strands an observer of a
    /// unique text (see the rules below).
    private mutating func leavesZone(_ u: Int, after: RegisterSpace.StateID, use: Use) -> Bool {
        if abandonsObservedText(u) { return true }
        if after != RegisterSpace.junk, strandsObservedText(u, after: after) { return true }
        return use == .effect && (abandonsPrefix(after: after) || opensZoneEarly(u, after: after))
    }

    /// Whether changing the state with `u` would leave a unique text that some mandatory operation
    /// other than `u` has yet to observe: the register never holds it again, so that operation
    /// could never be linearized. Pruning here, where the zone is cut short, instead of where the
    /// stranded observer's return is reached, keeps a wrong order from being carried through
    /// every interleaving of the operations in between.
    private mutating func abandonsObservedText(_ u: Int) -> Bool {
        let text = space.uniqueText(of: current.state)
        guard text >= 0 else { return false }
        let own: Int32 = u < mandatoryCount && observedText[u] == text ? 1 : 0
        return pendingObservers[Int(text)] > own
    }

    /// Whether moving from the current state to `after` abandons the spelling of a unique text
    /// with observers to come, of which the current state spells a proper prefix: only the text's
    /// next piece may be appended there. Only the few needs likeliest to be pending are looked at;
    /// missing one only costs pruning.
    private mutating func abandonsPrefix(after: RegisterSpace.StateID) -> Bool {
        let list = needList(of: current.state)
        guard list >= 0 else { return false }
        for n in stateNeeds[Int(list)].prefix(8) {
            let need = prefixNeeds[Int(n)]
            if pendingObservers[Int(need.text)] > 0, !space.maySpell(after, length: need.nextLength, hash: need.nextHash) { return true }
        }
        return false
    }

    /// Whether `after` spells a unique text with observers to come, or a proper prefix of one,
    /// while a mandatory operation that would end that spelling (or cannot happen during it) is
    /// still to be linearized although its deadline comes before the text's last observer is
    /// invoked: it can neither come during the text's zone nor after it, and now is too late for
    /// before it. This is where a write applied too early is caught, instead of at that deadline.
    private mutating func opensZoneEarly(_ u: Int, after: RegisterSpace.StateID) -> Bool {
        let text = space.uniqueText(of: after)
        if text >= 0, pendingObservers[Int(text)] > 0, operationDueInZone(of: text, whole: true, applying: u) { return true }
        let list = needList(of: after)
        guard list >= 0 else { return false }
        for n in stateNeeds[Int(list)].prefix(4) {
            let need = prefixNeeds[Int(n)]
            if pendingObservers[Int(need.text)] > 0, operationDueInZone(of: need.text, whole: false, applying: u) { return true }
        }
        return false
    }

    /// Whether a mandatory operation other than `u`, not yet linearized, has its deadline before
    /// the last invocation of `text`'s pending observers and would change the register while it
    /// spells `text` or a prefix of it (anything but the text's own observers and next pieces),
    /// or, once it spells the `whole` text, cannot hold then (a read of another value, a mismatch
    /// on the text). Only a bounded stretch of ranks is looked at: missing one only costs pruning.
    private func operationDueInZone(of text: Int32, whole: Bool, applying u: Int) -> Bool {
        var last = Int64.min
        for observer in observersOf[text] ?? [] where !linearized[Int(observer)] {
            last = max(last, operations[Int(observer)].invoke)
        }
        var rank = Int(current.prefix)
        var looked = 0
        while rank < mandatoryCount, operations[rank].deadline < last, looked < 256 {
            defer { rank += 1; looked += 1 }
            guard !linearized[rank], rank != u else { continue }
            switch operations[rank].action {
            case .read(let value): if whole, value != text { return true }
            case .differs(let value): if whole, value == text { return true }
            case .put, .delete: return true
            case .cas(let expected, _): if expected != text { return true }
            case .append(let fragment):
                if !space.values[Int(fragment)].isEmpty, !appendTargets[rank].contains(where: { $0.text == text }) { return true }
            }
        }
        return false
    }

    /// The prefix needs `state` spells, confirmed byte by byte once per state.
    private mutating func needList(of state: RegisterSpace.StateID) -> Int32 {
        guard !needsBySignature.isEmpty else { return -1 }
        let s = Int(state)
        if s >= stateNeedList.count { stateNeedList += [Int32](repeating: -2, count: s + 1 - stateNeedList.count) }
        if stateNeedList[s] != -2 { return stateNeedList[s] }
        let (length, hash) = space.signature(of: state)
        let spelled = (needsBySignature[PrefixSignature(length: length, hash: hash)] ?? []).filter { n in
            space.spells(state, prefixOf: prefixNeeds[Int(n)].text, length: length)
        }
        stateNeedList[s] = spelled.isEmpty ? -1 : Int32(stateNeeds.count)
        if !spelled.isEmpty { stateNeeds.append(spelled) }
        return stateNeedList[s]
    }

    /// Whether applying append `u`, giving `after`, spells no unique text that needs its fragment
    /// as far as that fragment, while the text still has observers to come: the fragment is
    /// appended once, so the text could never be spelled.
    private func strandsObservedText(_ u: Int, after: RegisterSpace.StateID) -> Bool {
        appendTargets[u].contains { target in
            pendingObservers[Int(target.text)] > 0 && !space.maySpell(after, length: target.length, hash: target.hash)
        }
    }

    /// Whether an indeterminate write's effect awaits observation after `action`; `nil` when
    /// `action` would overwrite an unobserved one, which the search never needs to do.
    private func awaitsObservation(after action: RegisterAction, isOptional: Bool) -> Bool? {
        switch action {
        case .read, .differs: return false
        case .cas: return isOptional
        case .put, .delete: return current.unobserved ? nil : isOptional
        case .append: return current.unobserved || isOptional
        }
    }

    /// The register's state after `action` from the current state, or `nil` if the action's
    /// recorded result is impossible there.
    private mutating func transition(_ action: RegisterAction) -> RegisterSpace.StateID? {
        let state = current.state
        switch action {
        case .read(let value): return space.holds(state, value) ? state : nil
        case .differs(let value): return space.holds(state, value) ? nil : state
        case .put(let value): return space.written(value)
        case .delete: return RegisterSpace.absent
        case .append(let fragment): return space.appending(fragment, to: state)
        case .cas(let expected, let value): return space.holds(state, expected) ? space.written(value) : nil
        }
    }

    private mutating func backtrack(_ frame: Frame) -> Resume {
        current = frame.before
        let u = Int(frame.operation)
        unlift(u)
        if frame.forced { return .exhausted }
        if u < mandatoryCount { return .mandatory(from: Int(frame.resume)) }
        return .optional(after: Int32(u - mandatoryCount + 1), firstReturn: frame.resume)
    }

    private mutating func lift(_ u: Int) {
        if u < mandatoryCount {
            unlink(2 * u + 1)
            unlink(2 * u + 2)
            if observedText[u] >= 0 { pendingObservers[Int(observedText[u])] -= 1 }
            linearized[u] = true
        } else {
            let i = u - mandatoryCount
            let entry = i + 1
            optionalNext[Int(optionalPrevious[entry])] = optionalNext[entry]
            optionalPrevious[Int(optionalNext[entry])] = optionalPrevious[entry]
            groupHead[Int(group[i])] = nextInGroup[i]
        }
    }

    /// Undoes `lift(u)`; lifts are undone in reverse order, so the neighbours are as they were.
    private mutating func unlift(_ u: Int) {
        if u < mandatoryCount {
            relink(2 * u + 2)
            relink(2 * u + 1)
            if observedText[u] >= 0 { pendingObservers[Int(observedText[u])] += 1 }
            linearized[u] = false
        } else {
            let i = u - mandatoryCount
            let entry = Int32(i + 1)
            optionalNext[Int(optionalPrevious[Int(entry)])] = entry
            optionalPrevious[Int(optionalNext[Int(entry)])] = entry
            groupHead[Int(group[i])] = Int32(i)
        }
    }

    private mutating func unlink(_ entry: Int) {
        next[Int(previous[entry])] = next[entry]
        previous[Int(next[entry])] = previous[entry]
    }

    private mutating func relink(_ entry: Int) {
        next[Int(previous[entry])] = Int32(entry)
        previous[Int(next[entry])] = Int32(entry)
    }

    /// Remembers the deepest dead end, for the explanation of a violation.
    private mutating func noteDeadEnd(firstReturn: Int32) {
        guard frames.count > deepest?.prefixLength ?? -1 else { return }
        var pending: [Int32] = []
        var entry = next[0]
        while !Self.isReturn(entry) {
            pending.append(Int32(Self.operation(ofEntry: entry)))
            entry = next[Int(entry)]
        }
        deepest = DeadEnd(
            prefixLength: frames.count,
            recentPrefix: frames.suffix(6).map(\.operation),
            blocking: firstReturn == 0 ? -1 : Int32(Self.operation(ofEntry: firstReturn)),
            pending: pending,
            state: current.state)
    }

    /// Distinct configurations visited.
    var configurations: Int { memo.count }
}
