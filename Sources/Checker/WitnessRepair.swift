import ConsensusCore

/// Mends an order of a key's operations that is a linearization nearly everywhere, as the epoch
/// construction (`EpochWitness`) builds on a long hot key: its choices are local (which delete
/// goes before which block), so where one is wrong the order fails at one place and holds again
/// shortly after. Each such place is re-solved exactly by the search, on a window of the order
/// around it, and the result spliced in; the mended order counts only once `WitnessReplay` has
/// replayed all of it, so this never decides anything by itself.
///
/// A window `a..<b` of the order can be re-solved on its own because what it owes the rest is
/// known: the prefix before it replays, leaving the register at a known state `s` and its latest
/// invocation at `l`; the window's operations may take effect in any order that replays from
/// `s` and respects real time with every invocation raised to at least `l` (which is what
/// following the prefix demands of them), and the operation at `b` is a put or a delete, so the
/// suffix does not depend on the state the window leaves. Nor does the suffix's real time depend
/// on the window's order: its latest invocation is the same whatever the order.
struct WitnessRepair {
    private let history: KeyHistory
    /// Search steps left for all windows together (each costs one at least, so mending ends).
    private var steps: Int
    /// The indeterminate operations the order being mended holds.
    private var placedOptional = Set<Int32>()
    /// Windows re-solved so far.
    private(set) var windows = 0
    private let deadline: ContinuousClock.Instant?

    /// How far around a failure the windows reach, in positions of the order, tried in turn.
    static let reaches = [16, 64, 256]

    /// A position of the order where the prefix before it is known to replay.
    struct Checkpoint {
        var position: Int
        var state: String?
        var latestInvoke: Int64
    }

    /// How often replaying records a checkpoint: keeping the register's state at every position
    /// would cost the square of the text length on a key that only grows by appends.
    static let checkpointSpacing = 256

    init(_ history: KeyHistory, deadline: ContinuousClock.Instant?) {
        self.history = history
        self.deadline = deadline
        steps = 16 * history.operations.count + 50_000
    }

    /// The order mended wherever it fails; `nil` when a failure could not be mended within the
    /// search budget (which proves nothing about the key).
    mutating func mended(_ order: [ModelOperation]) -> [ModelOperation]? {
        var order = withMissingInserted(order)
        placedOptional = Set(order.lazy.filter(\.isOptional).map(\.source))
        var checkpoints = [Checkpoint(position: 0, state: nil, latestInvoke: Int64.min)]
        var mendedUpTo = 0
        while let failure = firstFailure(order, &checkpoints) {
            // A window the search ordered replays: failing inside one again would mean the two
            // disagree, and mending it again would not end.
            guard steps > 0, failure >= mendedUpTo, let (window, replacement) = resolved(order, failingAt: failure, checkpoints) else { return nil }
            mendedUpTo = window.lowerBound + replacement.count
            windows += 1
            placedOptional.subtract(order[window].lazy.filter(\.isOptional).map(\.source))
            placedOptional.formUnion(replacement.lazy.filter(\.isOptional).map(\.source))
            order.replaceSubrange(window, with: replacement)
            checkpoints.removeAll { $0.position > window.lowerBound }
        }
        return order
    }

    /// The order with each mandatory operation it lacks (the construction leaves out a cas
    /// mismatch or a read of the absent key that no gap it built satisfies) inserted where the
    /// latest invocation before it first reaches its own, which breaks real time for nothing
    /// else; the mending then finds it a place that replays.
    private func withMissingInserted(_ order: [ModelOperation]) -> [ModelOperation] {
        var placed = [Bool](repeating: false, count: history.operations.count)
        for operation in order { placed[Int(operation.source)] = true }
        let missing = history.mandatory.filter { !placed[Int($0.source)] }.sorted { ($0.invoke, $0.source) < ($1.invoke, $1.source) }
        guard !missing.isEmpty else { return order }
        var latest = Int64.min
        var result: [ModelOperation] = []
        result.reserveCapacity(order.count + missing.count)
        var next = 0
        for operation in order {
            latest = max(latest, operation.invoke)
            result.append(operation)
            while next < missing.count, missing[next].invoke <= latest {
                result.append(missing[next])
                next += 1
            }
        }
        return result + missing[next...]
    }

    /// Replays the order from the last checkpoint, recording new ones on the way: the first
    /// position that breaks real time or whose result does not hold, if any.
    private func firstFailure(_ order: [ModelOperation], _ checkpoints: inout [Checkpoint]) -> Int? {
        var (state, latest) = (checkpoints.last!.state, checkpoints.last!.latestInvoke)
        for position in checkpoints.last!.position..<order.count {
            if position % Self.checkpointSpacing == 0, position > checkpoints.last!.position {
                checkpoints.append(Checkpoint(position: position, state: state, latestInvoke: latest))
            }
            let operation = order[position]
            latest = max(latest, operation.invoke)
            guard operation.deadline >= latest, WitnessReplay.apply(operation.action, to: &state, values: history.space.values) else {
                return position
            }
        }
        return nil
    }

    /// The state and latest invocation after the prefix `0..<position`, which replays.
    private func checkpoint(at position: Int, _ order: [ModelOperation], _ checkpoints: [Checkpoint]) -> Checkpoint {
        var point = checkpoints.last { $0.position <= position }!
        for operation in order[point.position..<position] {
            point.latestInvoke = max(point.latestInvoke, operation.invoke)
            _ = WitnessReplay.apply(operation.action, to: &point.state, values: history.space.values)
        }
        point.position = position
        return point
    }

    /// A window around the failure and an order of its operations found by the search, trying
    /// wider windows in turn; `nil` if none was found.
    private mutating func resolved(_ order: [ModelOperation], failingAt failure: Int, _ checkpoints: [Checkpoint])
        -> (Range<Int>, [ModelOperation])? {
        for reach in Self.reaches {
            let end = blindWrite(atOrAfter: min(order.count, failure + reach), order)
            var start = max(0, failure - reach)
            var before = checkpoint(at: start, order, checkpoints)
            // Every mandatory operation of the window must be able to follow the prefix.
            while start > 0, before.latestInvoke > order[start..<end].lazy.filter({ !$0.isOptional }).map(\.deadline).min() ?? Int64.max {
                start = max(0, start - reach)
                before = checkpoint(at: start, order, checkpoints)
            }
            if let replacement = search(Array(order[start..<end]), after: before) {
                return (start..<end, replacement)
            }
            guard steps > 0 else { return nil }
        }
        return nil
    }

    /// The first position at or after `position` holding a put or a delete (the end if none).
    private func blindWrite(atOrAfter position: Int, _ order: [ModelOperation]) -> Int {
        order[position...].firstIndex { operation in
            switch operation.action {
            case .put, .delete: true
            case .read, .differs, .append, .cas: false
            }
        } ?? order.count
    }

    /// An order of the window's operations that replays from `before`, found by the search on
    /// them alone (with the indeterminate writes the order left out that were invoked among them):
    /// a put of the state `before` holds, completed just before `before.latestInvoke`, to which
    /// every invocation is raised, stands for the prefix.
    private mutating func search(_ window: [ModelOperation], after before: Checkpoint) -> [ModelOperation]? {
        var members = window
        if let latest = window.map(\.invoke).max(), let earliest = window.map(\.invoke).min() {
            let first = history.optional.partitionPoint { $0.invoke >= earliest }
            members += history.optional[first...].prefix { $0.invoke <= latest }.filter { !placedOptional.contains($0.source) }
        }
        var operations: [HistoryOperation] = []
        var sources: [ModelOperation?] = []
        if let state = before.state {
            operations.append(HistoryOperation(
                id: 0, client: ClientID(0), node: NodeID(0), command: .put(key: history.key, value: state),
                invoke: Instant(microseconds: before.latestInvoke - 1), complete: Instant(microseconds: before.latestInvoke - 1),
                outcome: .ok(.done)))
            sources.append(nil)
        }
        for member in members {
            var operation = history.operations[Int(member.source)]
            operation.id = operations.count
            operation.invoke = Instant(microseconds: max(member.invoke, before.latestInvoke))
            if !member.isOptional {
                // An indeterminate write the history proves took effect: by its deadline.
                operation.complete = Instant(microseconds: member.deadline)
                if operation.outcome == .indeterminate { operation.outcome = .ok(.done) }
            }
            operations.append(operation)
            sources.append(member)
        }
        let key = KeyHistory(key: history.key, operations: operations)
        let guide = (0..<operations.count).map { Int32($0) }
        var search = LinearizabilitySearch(key, guide: guide)
        let budget = min(steps, 64 * operations.count + 10_000)
        let result = search.run(maxSteps: budget, deadline: deadline)
        steps -= max(1, search.steps)
        guard case .linearizable = result else { return nil }
        return search.linearization.compactMap { sources[Int($0)] }
    }
}
