/// A linearization of one key built in O(n log n) from the epochs its unique values imply, for
/// the keys whose search would have to explore many orders to find one (a hot key with dozens of
/// concurrent clients). It never decides "not linearizable": when the construction does not apply
/// or its result does not replay (`WitnessReplay`), the search decides.
///
/// The idea is Gibbons & Korach's (1997) for registers with unique written values, extended to
/// the lab's operations. Every value a put, cas or append writes is unique, so a text the register
/// holds (a first value followed by appended fragments) has one spelling and is held during one
/// stretch at most: an *epoch*, opened by the write of its last piece. A read of a text belongs
/// to that text's epoch; a cas expecting a text, or an append continuing it, opens the epoch that
/// directly follows it. Epochs chained that way form a *block*, which must be contiguous in any
/// linearization; a block starts with a put or an append nobody observed (after any state), or
/// with a write that needs the key absent (a cas expecting it absent, an append starting an
/// observed text). A block has a latest start (the earliest completion among its operations,
/// `Block.latestStart`) and an earliest end (the latest invocation, `earliestEnd`): if the end is
/// after the start, the block must hold the register over the whole span between them (a
/// *forward zone*), otherwise it can take effect at one instant inside it (a *backward zone*).
/// Gibbons & Korach show that for put/get registers these zones decide linearizability: forward
/// zones may not overlap and no backward zone may lie inside a forward one. The witness places the
/// blocks that way (`place`), puts a delete right before each block that needs the key absent and
/// one where each read of the absent key needs it (`placeDeletes`, by an interval-matching rule),
/// and fits cas mismatches into the first gap whose state satisfies them (`fillingIn`).
/// Indeterminate writes that no observed text needs are left out, which is always allowed.
///
/// The absent state is what the register holds many times over, and which delete comes before
/// what is where the construction is a heuristic rather than a decision procedure (the general
/// problem is NP-complete): it tries a few strategies (`Strategy`), and its result counts only
/// once replayed.
struct EpochWitness {
    /// The operations the witness places: the mandatory ones and the indeterminate writes an
    /// observed text needs.
    private var operations: [ModelOperation] = []
    private let history: KeyHistory
    /// Per value: the operation (index in `operations`) writing it; -1 none.
    private var writerOf: [Int32]
    /// Per operation: what it must directly follow.
    private var predecessor: [Predecessor] = []
    /// Per operation that opens an epoch: the write that closes it and opens the next one; -1 none.
    private var successor: [Int32] = []
    /// Per operation that opens an epoch: the reads of its text.
    private var readers: [[Int32]] = []
    /// Reads of the absent key and cas mismatches: they hold in many epochs.
    private var floating: [Int32] = []

    enum Predecessor: Equatable {
        /// A put, a delete, an append nobody observed: after anything.
        case any
        /// A cas expecting the key absent, an append that starts an observed text.
        case absent
        /// Right after the epoch opened by this operation.
        case epoch(Int32)
    }

    /// One epoch of a block: the operation that opened it and the reads of its text.
    struct Epoch {
        var opener: Int32
        var readers: [Int32]
    }

    /// Epochs that follow one another directly.
    struct Block {
        var epochs: [Epoch]
        /// The latest instant its first epoch can open: the earliest completion among its operations.
        var latestStart: Int64
        /// The earliest instant it can end: the latest invocation among its operations.
        var earliestEnd: Int64
        /// Its first write needs the key absent: it must follow a delete, or be the first write.
        var needsAbsent: Bool
        /// Forward zone: it holds the register from `latestStart` to `earliestEnd`.
        var isForward: Bool { earliestEnd > latestStart }

    }

    /// What the construction achieved: a linearization, or else the order of the first
    /// strategy that placed every write, as a guide for the search (`LinearizabilitySearch`):
    /// per operation of the history (by source index), its position (`Int32.max`: not placed).
    struct Attempt {
        var linearization: [ModelOperation]?
        var guide: [Int32]?
        /// How many windows of the order the search re-solved (`WitnessRepair`).
        var mendedWindows = 0
    }

    /// The key's operations in an order that replays as a linearization; `nil` when none was built.
    static func find(_ history: KeyHistory) -> [ModelOperation]? { attempt(history).linearization }

    /// - Parameter deadline: when mending an order (`WitnessRepair`) must give up.
    static func attempt(_ history: KeyHistory, deadline: ContinuousClock.Instant? = nil) -> Attempt {
        guard let witness = EpochWitness(history), let blocks = witness.blocks() else { return Attempt() }
        var nearest: [ModelOperation]?
        for strategy in Strategy.all {
            guard let order = witness.order(blocks, strategy) else { continue }
            if WitnessReplay.isLinearization(order, of: history) { return Attempt(linearization: order) }
            nearest = nearest ?? order
        }
        // No strategy's order replays (on a long key, each goes wrong somewhere): mend the first
        // one built, or else the first strategy's built regardless of what fits nowhere.
        guard let nearest = nearest ?? witness.order(blocks, Strategy.all[0], tolerant: true) else { return Attempt() }
        var repair = WitnessRepair(history, deadline: deadline)
        if let mended = repair.mended(nearest), WitnessReplay.isLinearization(mended, of: history) {
            return Attempt(linearization: mended, mendedWindows: repair.windows)
        }
        var ranks = [Int32](repeating: Int32.max, count: history.operations.count)
        for (position, operation) in nearest.enumerated() { ranks[Int(operation.source)] = Int32(position) }
        return Attempt(guide: ranks)
    }

    /// Where a backward zone that needs nothing before it goes in its window. As late as it can
    /// leaves the key absent longest before it and a gap for what needs the key absent; as early
    /// as it can ends the value before it soonest. Neither is always right.
    enum Placement { case latest, earliest }

    /// The construction's choices, tried in turn (each is O(n log n)): where backward zones go;
    /// whether a delete already placed may move earlier to reach a read of the absent key (which
    /// makes the key absent longer, and a cas mismatch on an absent key needs it present); and
    /// whether a chain needing the key absent first looks for a delete it can follow at the same
    /// instant (which leaves nothing in between, but may take a delete another need had to have).
    struct Strategy {
        var placement: Placement
        var movesDeletesEarlier: Bool
        var pairsFirst: Bool
        var forwardDeletesFirst: Bool
        static let all = [true, false].flatMap { forwardFirst in
            [Placement.latest, .earliest].flatMap { placement in
                [(true, true), (false, true), (true, false), (false, false)].map {
                    Strategy(placement: placement, movesDeletesEarlier: $0.0, pairsFirst: $0.1, forwardDeletesFirst: forwardFirst)
                }
            }
        }
    }

    /// The strategy's order; `nil` when a block or delete fits nowhere, unless `tolerant`: then
    /// each goes inside its own window regardless, for `WitnessRepair` to mend where it fails.
    private func order(_ blocks: [Block], _ strategy: Strategy, tolerant: Bool = false) -> [ModelOperation]? {
        var pool = DeletePool(operations.indices.filter(isDelete).map { Int32($0) }, operations: operations)
        guard var timeline = place(blocks, strategy, deletes: &pool, tolerant: tolerant),
              placeDeletes(in: &timeline, pool: &pool, movingEarlier: strategy.movesDeletesEarlier, tolerant: tolerant) else { return nil }
        return fillingIn(placed(timeline))
    }

    private init?(_ history: KeyHistory) {
        self.history = history
        let values = history.space.values
        writerOf = [Int32](repeating: -1, count: values.count)
        let all = history.mandatory + history.optional
        let writers = KeyHistory.writerCounts(all, valueCount: values.count)
        for operation in all {
            if let written = Self.written(operation), writers[Int(written)] > 1 || values[Int(written)].isEmpty { return nil }
        }
        guard let texts = included(history) else { return nil }
        for (index, operation) in operations.enumerated() {
            if let written = Self.written(operation) { writerOf[Int(written)] = Int32(index) }
        }
        predecessor = Array(repeating: .any, count: operations.count)
        successor = Array(repeating: -1, count: operations.count)
        readers = Array(repeating: [], count: operations.count)
        guard chain(texts), link(), attachReads() else { return nil }
    }

    static func written(_ operation: ModelOperation) -> RegisterSpace.ValueID? {
        switch operation.action {
        case .put(let value), .append(let value), .cas(_, let value): value
        case .delete, .read, .differs: nil
        }
    }

    /// The single spelling of an observed text; without appends a text is its own spelling.
    private func spelling(_ text: RegisterSpace.ValueID) -> [RegisterSpace.ValueID]? {
        history.uniqueSpellings[text] ?? (history.space.hasAppends ? nil : [text])
    }

    /// Chooses the operations to place, returning the observed texts: every mandatory one, and
    /// each indeterminate write whose value is a piece of an observed text (with what its cas
    /// expects observed in turn). `nil` if an observed text has no single spelling.
    private mutating func included(_ history: KeyHistory) -> Set<RegisterSpace.ValueID>? {
        operations = history.mandatory
        var texts = Set<RegisterSpace.ValueID>()
        var needed = Set<RegisterSpace.ValueID>()
        func observe(_ text: RegisterSpace.ValueID) -> Bool {
            guard text != RegisterSpace.noValue else { return true }
            guard let pieces = spelling(text) else { return false }
            if texts.insert(text).inserted { needed.formUnion(pieces) }
            return true
        }
        for operation in operations {
            switch operation.action {
            case .read(let text), .cas(let text, _): guard observe(text) else { return nil }
            case .put, .delete, .append, .differs: break
            }
        }
        // An indeterminate delete may have left the key absent for a read or a chain that needs
        // it; where it lands it harms no block, since every block starts on any state.
        operations += history.optional.filter { if case .delete = $0.action { true } else { false } }
        var left = history.optional.filter { Self.written($0) != nil }
        while true {
            let taken = left.filter { needed.contains(Self.written($0)!) }
            guard !taken.isEmpty else { return texts }
            left.removeAll { needed.contains(Self.written($0)!) }
            for operation in taken {
                operations.append(operation)
                if case .cas(let expected, _) = operation.action, !observe(expected) { return nil }
            }
        }
    }

    /// What each write follows, from the cas's expected values and the observed spellings.
    private mutating func chain(_ texts: Set<RegisterSpace.ValueID>) -> Bool {
        for (index, operation) in operations.enumerated() {
            guard case .cas(let expected, _) = operation.action else { continue }
            if expected == RegisterSpace.noValue {
                predecessor[index] = .absent
            } else {
                guard let epoch = epoch(of: expected) else { return false }
                predecessor[index] = .epoch(epoch)
            }
        }
        var spelled = [Bool](repeating: false, count: operations.count)
        for text in texts.sorted() {
            guard let pieces = spelling(text) else { return false }
            for (position, piece) in pieces.enumerated() {
                let writer = writerOf[Int(piece)]
                guard writer >= 0 else { return false }
                let isAppend = if case .append = operations[Int(writer)].action { true } else { false }
                guard position == 0 || isAppend else { return false }
                guard isAppend else { continue }
                let follows: Predecessor = position == 0 ? .absent : .epoch(writerOf[Int(pieces[position - 1])])
                guard !spelled[Int(writer)] || predecessor[Int(writer)] == follows else { return false }
                spelled[Int(writer)] = true
                predecessor[Int(writer)] = follows
            }
        }
        return true
    }

    /// The epoch holding an observed text: the one its last piece's write opened.
    private func epoch(of text: RegisterSpace.ValueID) -> Int32? {
        guard let last = spelling(text)?.last, writerOf[Int(last)] >= 0 else { return nil }
        return writerOf[Int(last)]
    }

    /// Each epoch is closed by at most one write (a text is held during one stretch).
    private mutating func link() -> Bool {
        for index in operations.indices {
            guard case .epoch(let epoch) = predecessor[index] else { continue }
            guard successor[Int(epoch)] < 0 else { return false }
            successor[Int(epoch)] = Int32(index)
        }
        return true
    }

    private mutating func attachReads() -> Bool {
        for (index, operation) in operations.enumerated() {
            switch operation.action {
            case .read(let text) where text != RegisterSpace.noValue:
                guard let epoch = epoch(of: text) else { return false }
                readers[Int(epoch)].append(Int32(index))
            case .read, .differs:
                floating.append(Int32(index))
            case .put, .delete, .append, .cas:
                break
            }
        }
        return true
    }
}

// MARK: - Blocks

extension EpochWitness {
    /// Every placed write but the deletes in exactly one block: one per put or unobserved append
    /// and one per write that needs the key absent, each with the epochs chained after it. `nil`
    /// when an epoch cannot be held as its operations require or a write is in no block (a cycle
    /// of cas, or a chain after a text no write opens).
    private func blocks() -> [Block]? {
        var blocks: [Block] = []
        var covered = 0
        for head in operations.indices where Self.written(operations[head]) != nil && [.any, .absent].contains(predecessor[head]) {
            let epochs = chain(from: Int32(head)).map { Epoch(opener: $0, readers: readers[Int($0)]) }
            covered += epochs.count
            guard let block = window(epochs, needsAbsent: predecessor[head] == .absent) else { return nil }
            blocks.append(block)
        }
        return covered == operations.indices.filter({ Self.written(operations[$0]) != nil }).count ? blocks : nil
    }

    private func isDelete(_ index: Int) -> Bool { if case .delete = operations[index].action { true } else { false } }

    private func chain(from head: Int32) -> [Int32] {
        var chain: [Int32] = []
        var next = head
        while next >= 0, chain.count <= operations.count {
            chain.append(next)
            next = successor[Int(next)]
        }
        return chain
    }

    /// A block's window, `nil` if its epochs cannot follow one another as their operations'
    /// intervals require: epoch i opens at the latest of its opener's invocation and everything
    /// invoked in the epochs before it (each of which must take effect before it closes), and
    /// that must not be after any completion in the epoch.
    private func window(_ epochs: [Epoch], needsAbsent: Bool) -> Block? {
        var opens = Int64.min
        var latestStart = Int64.max
        for epoch in epochs {
            let opener = operations[Int(epoch.opener)]
            opens = max(opens, opener.invoke)
            var completes = opener.deadline
            var invoked = opens
            for reader in epoch.readers {
                completes = min(completes, operations[Int(reader)].deadline)
                invoked = max(invoked, operations[Int(reader)].invoke)
            }
            guard opens <= completes else { return nil }
            latestStart = min(latestStart, completes)
            opens = invoked
        }
        return Block(epochs: epochs, latestStart: latestStart, earliestEnd: opens, needsAbsent: needsAbsent)
    }
}

// MARK: - Placement

extension EpochWitness {
    /// A block placed over `start...end` (one instant for a backward zone), with the delete placed
    /// right before it when it needs the key absent (none: it is the first write of all).
    struct Unit {
        var block: Block
        var start: Int64
        var end: Int64
        var delete: (instant: Int64, delete: Int32)?
        /// Order among units starting at the same instant: the one on the initial state first,
        /// backward zones before a forward zone that starts there.
        var rank: Int
    }

    /// The blocks in the order they take effect, with the deletes placed in the gaps between
    /// them: gap g lies before `units[g]`, the last gap after the last block.
    struct Timeline {
        var units: [Unit]
        /// Per gap, the deletes placed there besides the units' own.
        var deletes: [[(instant: Int64, delete: Int32)]]

        init(_ units: [Unit]) {
            self.units = units.sorted {
                ($0.start, $0.rank, $0.delete?.instant ?? $0.start, $0.block.epochs[0].opener)
                    < ($1.start, $1.rank, $1.delete?.instant ?? $1.start, $1.block.epochs[0].opener)
            }
            deletes = Array(repeating: [], count: units.count + 1)
        }

        /// The instants gap g spans: from the end of the block before it to the start of the one after.
        func gap(_ g: Int) -> (from: Int64, to: Int64) {
            (g == 0 ? Int64.min : units[g - 1].end, g == units.count ? Int64.max : units[g].start)
        }

        /// The first gap that reaches `instant` or beyond.
        func firstGap(reaching instant: Int64) -> Int { units.partitionPoint { $0.start >= instant } }

        /// The gaps an interval overlaps.
        func gaps(overlapping invoke: Int64, _ deadline: Int64) -> Range<Int> {
            let first = firstGap(reaching: invoke)
            var last = first
            while last <= units.count, gap(last).from <= deadline { last += 1 }
            return first..<last
        }

        /// From when the key is absent in gap g until the block after it; `Int64.max`: never.
        func absentFrom(_ g: Int) -> Int64 {
            guard g > 0 else { return Int64.min }
            let own = g < units.count ? units[g].delete?.instant ?? Int64.max : Int64.max
            return deletes[g].reduce(own) { min($0, $1.instant) }
        }

        var forward: [Block] { units.map(\.block).filter(\.isForward) }
    }

    /// Places the blocks. Forward zones go to their spans, which must not overlap, and each
    /// backward zone that does not need the key absent to the latest (or earliest) instant of
    /// its window outside every forward span. Each forward zone that needs the key absent takes a
    /// delete in the gap before it (`DeletePool`), unless it comes first; the backward zones that
    /// need it go into the gaps (`insertingNeedsOfAbsence`), before or after the forward zones
    /// take theirs, as the strategy says. `nil` if any of that fails, unless `tolerant`: then what
    /// finds no delete goes without one, and a backward zone that fits nowhere to its window.
    private func place(_ blocks: [Block], _ strategy: Strategy, deletes pool: inout DeletePool, tolerant: Bool) -> Timeline? {
        let forward = blocks.filter(\.isForward).sorted { $0.latestStart < $1.latestStart }
        for (before, after) in zip(forward, forward.dropFirst()) where before.earliestEnd > after.latestStart && !tolerant { return nil }
        var units = forward.map { Unit(block: $0, start: $0.latestStart, end: $0.earliestEnd, rank: 1) }
        for block in blocks where !block.isForward && !block.needsAbsent {
            var instant = strategy.placement == .latest ? Self.lastFreeInstant(upTo: block.latestStart, forward: forward)
                : Self.firstFreeInstant(from: block.earliestEnd, forward: forward)
            if tolerant { instant = min(max(instant, block.earliestEnd), block.latestStart) }
            guard instant >= block.earliestEnd, instant <= block.latestStart else { return nil }
            units.append(Unit(block: block, start: instant, end: instant, rank: 0))
        }
        var timeline = Timeline(units)
        // Per gap: what is placed there so far ends at `floor`; the unit's own delete, at `ceiling`.
        var ceiling = timeline.units.map(\.start) + [Int64.max]
        let needing = timeline.units.indices.filter { timeline.units[$0].block.needsAbsent }
        if needing.first == 0 { ceiling[0] = Int64.min }
        if strategy.forwardDeletesFirst {
            for g in needing where g > 0 {
                guard let delete = deleteBefore(g, in: &timeline, pool: &pool) else { if tolerant { continue } else { return nil } }
                timeline.units[g].delete = delete
                ceiling[g] = delete.instant
            }
        }
        let inserted = insertingNeedsOfAbsence(blocks, into: timeline, ceiling: ceiling, strategy, pool: &pool, tolerant: tolerant)
        guard let inserted else { return nil }
        if !strategy.forwardDeletesFirst {
            for g in needing where g > 0 {
                let from = inserted.occupied[g].last ?? timeline.gap(g).from
                guard let delete = pool.take(invokedBy: timeline.gap(g).to, completingFrom: from) else { if tolerant { continue } else { return nil } }
                timeline.units[g].delete = (min(timeline.gap(g).to, operations[Int(delete)].deadline), delete)
            }
        }
        return inserted.units.isEmpty ? timeline : Timeline(timeline.units + inserted.units)
    }

    /// Places the backward zones that need the key absent into the gaps, each at one instant and
    /// right after a delete, the window that closes first first, each taking the fitting delete
    /// that completes first (which leaves the later deletes for the later windows: the greedy rule
    /// of interval matching, which taking the window that opens first first is not).
    /// First, if the strategy says so, at the same instant as a delete whose interval meets the
    /// window, so that nothing can come between; then between two instants already taken in a
    /// gap, after a delete there (or, first of all, on the initial state). `nil` if one fits
    /// nowhere; else the units and, per gap, the instants taken, in order.
    private func insertingNeedsOfAbsence(_ blocks: [Block], into timeline: Timeline, ceiling: [Int64], _ strategy: Strategy,
                                         pool: inout DeletePool, tolerant: Bool) -> (units: [Unit], occupied: [[Int64]])? {
        var occupied = [[Int64]](repeating: [], count: timeline.units.count + 1)
        var units: [Unit] = []
        func occupy(_ instant: Int64, _ g: Int) {
            occupied[g].insert(instant, at: occupied[g].firstIndex { $0 > instant } ?? occupied[g].count)
        }
        let waiting = blocks.filter { !$0.isForward && $0.needsAbsent }.sorted { ($0.latestStart, $0.earliestEnd) < ($1.latestStart, $1.earliestEnd) }
        var left: [Block] = []
        for block in waiting {
            let paired = !strategy.pairsFirst ? nil : timeline.gaps(overlapping: block.earliestEnd, block.latestStart).firstNonNil { g -> Unit? in
                let low = max(block.earliestEnd, timeline.gap(g).from), high = min(block.latestStart, ceiling[g])
                guard low <= high, let delete = pool.take(invokedBy: high, completingFrom: low) else { return nil }
                let instant = max(low, operations[Int(delete)].invoke)
                occupy(instant, g)
                return Unit(block: block, start: instant, end: instant, delete: (instant, delete), rank: 0)
            }
            if let paired { units.append(paired) } else { left.append(block) }
        }
        var initialTaken = ceiling[0] == Int64.min
        let absentReadInvocations = absentReads().map { operations[Int($0)].invoke }.sorted()
        for block in left {
            let fitted = timeline.gaps(overlapping: block.earliestEnd, block.latestStart).firstNonNil { g -> Unit? in
                let bounds = [timeline.gap(g).from] + occupied[g] + [ceiling[g]]
                return zip(bounds, bounds.dropFirst()).enumerated().firstNonNil { k, between -> Unit? in
                    let low = max(block.earliestEnd, between.0), high = min(block.latestStart, between.1)
                    guard low <= high else { return nil }
                    if g == 0, k == 0, !initialTaken {
                        // As late as the reads of the absent key invoked before it can need.
                        let instant = max(low, absentReadInvocations.last { $0 <= high } ?? low)
                        initialTaken = true
                        occupy(instant, g)
                        return Unit(block: block, start: instant, end: instant, rank: -1)
                    }
                    guard let delete = pool.take(invokedBy: high, completingFrom: between.0) else { return nil }
                    let instant = max(low, operations[Int(delete)].invoke)
                    occupy(instant, g)
                    return Unit(block: block, start: instant, end: instant, delete: (min(instant, operations[Int(delete)].deadline), delete), rank: 0)
                }
            }
            guard let placed = fitted ?? (tolerant ? Unit(block: block, start: block.earliestEnd, end: block.earliestEnd, rank: 0) : nil) else {
                return nil
            }
            units.append(placed)
        }
        return (units, occupied)
    }

    /// A delete for the gap before unit g, which needs the key absent: the one meeting the gap that
    /// completes first (gaps are taken in order, so this is the interval-matching rule that
    /// matches as many gaps as can be); failing that, the backward zone before the gap moves as
    /// early as its window allows to widen the gap.
    private func deleteBefore(_ g: Int, in timeline: inout Timeline, pool: inout DeletePool) -> (instant: Int64, delete: Int32)? {
        let (from, to) = timeline.gap(g)
        if let delete = pool.take(invokedBy: to, completingFrom: from) {
            return (min(to, operations[Int(delete)].deadline), delete)
        }
        let before = timeline.units[g - 1]
        guard !before.block.isForward, before.delete == nil else { return nil }
        let earliest = max(before.block.earliestEnd, timeline.gap(g - 1).from)
        guard let delete = pool.take(invokedBy: to, completingFrom: earliest) else { return nil }
        let moved = max(earliest, min(before.start, operations[Int(delete)].deadline))
        (timeline.units[g - 1].start, timeline.units[g - 1].end) = (moved, moved)
        return (min(to, operations[Int(delete)].deadline), delete)
    }

    /// The latest instant at or before `instant` strictly inside no forward span.
    static func lastFreeInstant(upTo instant: Int64, forward: [Block]) -> Int64 {
        span(containing: instant, forward)?.latestStart ?? instant
    }

    /// The earliest instant at or after `instant` strictly inside no forward span.
    static func firstFreeInstant(from instant: Int64, forward: [Block]) -> Int64 {
        span(containing: instant, forward)?.earliestEnd ?? instant
    }

    /// The forward span (sorted, disjoint) strictly containing `instant`, if any.
    static func span(containing instant: Int64, _ forward: [Block]) -> Block? {
        let after = forward.partitionPoint { $0.latestStart >= instant }
        return after > 0 && forward[after - 1].earliestEnd > instant ? forward[after - 1] : nil
    }

    /// Places the deletes left: for each read of the absent key that no absent stretch reaches
    /// yet, one in a gap the read overlaps, then every mandatory delete still left at the latest
    /// instant it can take effect. Indeterminate deletes are placed only where needed. Each
    /// delete goes as late as it can, making the key absent for as short a time as possible:
    /// a cas mismatch on an absent key needs it present. `false` when a mandatory delete fits
    /// nowhere.
    private func placeDeletes(in timeline: inout Timeline, pool: inout DeletePool, movingEarlier: Bool, tolerant: Bool) -> Bool {
        for read in absentReads() where !isReached(read, timeline) && !(movingEarlier && movedEarlier(toReach: read, &timeline)) {
            let operation = operations[Int(read)]
            for g in timeline.gaps(overlapping: operation.invoke, operation.deadline) {
                let (from, to) = timeline.gap(g)
                if let delete = pool.take(invokedBy: min(to, operation.deadline), completingFrom: from) {
                    timeline.deletes[g].append((min(to, operation.deadline, operations[Int(delete)].deadline), delete))
                    break
                }
            }
        }
        let forward = timeline.forward
        for delete in pool.left where !operations[Int(delete)].isOptional {
            var instant = Self.lastFreeInstant(upTo: operations[Int(delete)].deadline, forward: forward)
            if tolerant { instant = max(instant, operations[Int(delete)].invoke) }
            guard instant >= operations[Int(delete)].invoke else { return false }
            let g = timeline.firstGap(reaching: instant)
            timeline.deletes[g].append((instant, delete))
        }
        return true
    }

    /// Moves a delete already placed in a gap the read overlaps as early as it needs to, so that
    /// the key is absent at some instant of the read; whether one could.
    private func movedEarlier(toReach read: Int32, _ timeline: inout Timeline) -> Bool {
        let operation = operations[Int(read)]
        for g in timeline.gaps(overlapping: operation.invoke, operation.deadline) where g > 0 {
            let from = timeline.gap(g).from
            func target(_ placed: (instant: Int64, delete: Int32)) -> Int64? {
                let earliest = max(from, operations[Int(placed.delete)].invoke)
                return earliest <= operation.deadline ? max(earliest, min(placed.instant, operation.deadline)) : nil
            }
            if g < timeline.units.count, let own = timeline.units[g].delete, let instant = target(own) {
                timeline.units[g].delete = (instant, own.delete)
                return true
            }
            for (index, placed) in timeline.deletes[g].enumerated() {
                guard let instant = target(placed) else { continue }
                timeline.deletes[g][index].instant = instant
                return true
            }
        }
        return false
    }

    private func absentReads() -> [Int32] {
        floating.filter { if case .read = operations[Int($0)].action { true } else { false } }
            .sorted { (operations[Int($0)].deadline, $0) < (operations[Int($1)].deadline, $1) }
    }

    /// Whether the key is absent at some instant of the read's interval: before the first block,
    /// or between a delete and the next block.
    private func isReached(_ read: Int32, _ timeline: Timeline) -> Bool {
        let operation = operations[Int(read)]
        return timeline.gaps(overlapping: operation.invoke, operation.deadline).contains { timeline.absentFrom($0) <= operation.deadline }
    }

    /// The placed writes and the reads of their epochs, in order, each with an instant inside its interval.
    struct Placed {
        var order: [Int32] = []
        var instants: [Int64] = []
    }

    private func placed(_ timeline: Timeline) -> Placed {
        var placed = Placed()
        for g in timeline.deletes.indices {
            let own = g < timeline.units.count ? timeline.units[g].delete.map { [$0] } ?? [] : []
            for (instant, delete) in (timeline.deletes[g] + own).sorted(by: { ($0.instant, $0.delete) < ($1.instant, $1.delete) }) {
                placed.order.append(delete)
                placed.instants.append(instant)
            }
            if g < timeline.units.count { emit(timeline.units[g].block, from: timeline.units[g].start, into: &placed) }
        }
        return placed
    }

    /// A block's operations from its start: each epoch opens as early as the ones before it allow,
    /// and each read takes effect at its invocation or the epoch's opening, whichever is later.
    private func emit(_ block: Block, from start: Int64, into placed: inout Placed) {
        var opens = start
        for epoch in block.epochs {
            opens = max(opens, operations[Int(epoch.opener)].invoke)
            placed.order.append(epoch.opener)
            placed.instants.append(opens)
            let reads = epoch.readers.map { (max(opens, operations[Int($0)].invoke), $0) }.sorted { $0 < $1 }
            for (instant, reader) in reads {
                placed.order.append(reader)
                placed.instants.append(instant)
            }
            opens = reads.last.map { max(opens, $0.0) } ?? opens
        }
    }

    /// The placed order with each floating operation in the first gap, inside its interval, whose
    /// state satisfies it.
    private func fillingIn(_ placed: Placed) -> [ModelOperation] {
        let states = statesAfter(placed.order)
        var gaps = [[(Int64, Int32)]](repeating: [], count: placed.order.count + 1)
        for index in floating {
            let operation = operations[Int(index)]
            // Gap g lies between placed[g - 1] and placed[g].
            var gap = firstGap(endingAtOrAfter: operation.invoke, placed.instants)
            while gap <= placed.order.count {
                let opens = gap == 0 ? Int64.min : placed.instants[gap - 1]
                guard opens <= operation.deadline else { break }
                if satisfies(operation.action, state: gap == 0 ? -1 : states[gap - 1]) {
                    gaps[gap].append((max(opens, operation.invoke), index))
                    break
                }
                gap += 1
            }
        }
        var order: [ModelOperation] = []
        order.reserveCapacity(operations.count)
        for gap in gaps.indices {
            order += gaps[gap].sorted { $0 < $1 }.map { operations[Int($0.1)] }
            if gap < placed.order.count { order.append(operations[Int(placed.order[gap])]) }
        }
        return order
    }

    private func firstGap(endingAtOrAfter instant: Int64, _ instants: [Int64]) -> Int { instants.partitionPoint { $0 >= instant } }

    /// After each placed operation, the epoch the register is in: the operation that opened it,
    /// -1 for the absent key.
    private func statesAfter(_ order: [Int32]) -> [Int32] {
        var state: Int32 = -1
        return order.map { index in
            switch operations[Int(index)].action {
            case .delete: state = -1
            case .put, .append, .cas: state = index
            case .read, .differs: break
            }
            return state
        }
    }

    private func satisfies(_ action: RegisterAction, state: Int32) -> Bool {
        switch action {
        case .read(let text): text == RegisterSpace.noValue && state < 0
        case .differs(let text): text == RegisterSpace.noValue ? state >= 0 : state != (epoch(of: text) ?? -2)
        case .put, .delete, .append, .cas: false
        }
    }
}

/// The deletes not yet placed, to be taken by the interval-matching rule.
struct DeletePool {
    private let operations: [ModelOperation]
    /// Mandatory deletes by invocation.
    private var byInvocation: [Int32]
    /// Indeterminate deletes (no completion): few, scanned whole.
    private var unbounded: [Int32]
    private var used: Set<Int32> = []
    /// The longest interval of a mandatory delete: how far back a scan for one still completing
    /// at a given instant must look.
    private let longest: Int64

    init(_ deletes: [Int32], operations: [ModelOperation]) {
        self.operations = operations
        byInvocation = deletes.filter { !operations[Int($0)].isOptional }.sorted { (operations[Int($0)].invoke, $0) < (operations[Int($1)].invoke, $1) }
        unbounded = deletes.filter { operations[Int($0)].isOptional }
        longest = byInvocation.map { operations[Int($0)].deadline - operations[Int($0)].invoke }.max() ?? 0
    }

    /// The unused delete invoked by `latest` and completing at `earliest` or later that completes
    /// first (mandatory ones before indeterminate ones), now used; `nil` if there is none.
    mutating func take(invokedBy latest: Int64, completingFrom earliest: Int64) -> Int32? {
        var best: Int32?
        var index = byInvocation.partitionPoint { operations[Int($0)].invoke > latest } - 1
        let horizon = earliest == Int64.min ? Int64.min : earliest - longest
        while index >= 0, operations[Int(byInvocation[index])].invoke >= horizon {
            let delete = byInvocation[index]
            let deadline = operations[Int(delete)].deadline
            if !used.contains(delete), deadline >= earliest, best.map({ (deadline, delete) < (operations[Int($0)].deadline, $0) }) ?? true {
                best = delete
            }
            index -= 1
        }
        best = best ?? unbounded.first { !used.contains($0) && operations[Int($0)].invoke <= latest }
        if let best { used.insert(best) }
        return best
    }

    /// The deletes never taken, by invocation.
    var left: [Int32] { (byInvocation + unbounded).filter { !used.contains($0) } }
}

extension Sequence {
    /// The first non-nil result of `transform`, evaluating no further.
    fileprivate func firstNonNil<T>(_ transform: (Element) throws -> T?) rethrows -> T? {
        for element in self { if let result = try transform(element) { return result } }
        return nil
    }
}
