import ConsensusCore

/// A participant's wait for a decision (atomic-commit backends): from its YES vote (`prepared`)
/// until it learned the outcome (`decided`), holding the lock of the transaction's key all along.
/// Every write puts every participant in doubt for a round trip; a span of `blocking` or more is
/// the protocol blocking (2PC waiting for a coordinator that is gone).
public struct InDoubtSpan: Hashable, Sendable {
    public var transaction: UInt64
    /// The participant in doubt.
    public var node: NodeID
    /// The key the transaction writes, locked at `node` for the whole span.
    public var key: String
    public var start: Instant
    /// When the wait ended (see `ending`); nil: still in doubt when the run ended.
    public var end: Instant?
    public var ending: Ending = .runEnded

    /// How a wait in doubt ended.
    public enum Ending: Hashable, Sendable {
        /// The node learned the decision.
        case decided
        /// The node crashed: down, it waits for nothing. Its logged YES makes it wait again from
        /// its restart (another span), until it learns the decision.
        case crashed
        /// The run ended first.
        case runEnded
    }

    /// Longer than every default timeout of 2PC and 3PC (at most 500 ms), so a wait that the
    /// protocol's own timers end is not counted; a wait this long is blocking. Such spans get lines
    /// in `events.csv` (each of the thousands of round-trip waits would drown it) and count in
    /// `in_doubt_txns`.
    public static let blocking = TimeSpan.seconds(1)

    public var coordinator: NodeID { ObservableEvent.coordinator(ofTransaction: transaction) }

    /// How long `node` was in doubt; a span still open counts until `runEnd`.
    public func duration(until runEnd: Instant) -> TimeSpan { (end ?? runEnd) - start }

    /// The waits of `observed` with each node's down time cut out, as `events` (in time order)
    /// record crashes and restarts: a node that crashes in doubt waits again from its restart.
    public static func excludingDownTime(_ observed: [InDoubtSpan], _ events: [EventRecord]) -> [InDoubtSpan] {
        var down: [NodeID: [(start: Instant, end: Instant?)]] = [:]
        for record in events {
            guard let node = record.node else { continue }
            switch record.event {
            case .crash, .processKilled: down[node, default: []].append((record.time, nil))
            case .restart, .processStarted(_, restart: true):
                if let last = down[node]?.indices.last, down[node]![last].end == nil { down[node]![last].end = record.time }
            default: continue
            }
        }
        guard !down.isEmpty else { return observed }
        var spans: [InDoubtSpan] = []
        for span in observed {
            var piece: InDoubtSpan? = span
            for gap in down[span.node] ?? [] {
                guard let current = piece, gap.start >= current.start, current.end.map({ gap.start < $0 }) ?? true else { continue }
                spans.append(InDoubtSpan(transaction: span.transaction, node: span.node, key: span.key, start: current.start, end: gap.start,
                                         ending: .crashed))
                if let restart = gap.end, current.end.map({ restart < $0 }) ?? true {
                    piece = InDoubtSpan(transaction: span.transaction, node: span.node, key: span.key, start: restart, end: current.end,
                                        ending: current.ending)
                } else {
                    piece = nil
                }
            }
            if let piece { spans.append(piece) }
        }
        return spans
    }

    /// The `inDoubt` lines of the blocking spans, and a `coordinatedInDoubt` line at each
    /// coordinator of one (from the first participant's doubt to the last one's end),
    /// merged into `events` in time order; events at the same time keep their order.
    public static func merge(_ spans: [InDoubtSpan], into events: [EventRecord], end runEnd: Instant) -> [EventRecord] {
        let blocking = spans.filter { $0.duration(until: runEnd) >= Self.blocking }
        guard !blocking.isEmpty else { return events }
        var added = blocking.map { span in
            EventRecord(time: span.start, node: span.node,
                        event: .inDoubt(transaction: span.transaction, key: span.key, duration: span.duration(until: runEnd), ending: span.ending))
        }
        for (transaction, participants) in Dictionary(grouping: blocking, by: \.transaction).sorted(by: { $0.key < $1.key }) {
            let start = participants.map(\.start).min()!, last = participants.map { $0.end ?? runEnd }.max()!
            added.append(EventRecord(time: start, node: participants[0].coordinator,
                                     event: .coordinatedInDoubt(transaction: transaction, key: participants[0].key, duration: last - start,
                                                                resolved: participants.allSatisfy { $0.ending != .runEnded })))
        }
        added.sort { ($0.time, $0.node?.rawValue ?? 0) < ($1.time, $1.node?.rawValue ?? 0) }
        var merged: [EventRecord] = []
        merged.reserveCapacity(events.count + added.count)
        var next = added.makeIterator(), pending = next.next()
        for event in events {
            while let candidate = pending, candidate.time < event.time {
                merged.append(candidate)
                pending = next.next()
            }
            merged.append(event)
        }
        while let candidate = pending { merged.append(candidate); pending = next.next() }
        return merged
    }
}

/// Collects the in-doubt spans of a run from the backends' `prepared` and `decided` observations;
/// both drivers (the simulator and `conlab run --real`) feed one.
public struct InDoubtTracker: Sendable {
    private struct Wait: Hashable { var transaction: UInt64; var node: NodeID }

    public private(set) var spans: [InDoubtSpan] = []
    /// Index in `spans` of each wait not decided yet. A crash leaves it open: the YES is logged,
    /// and the restarted node is in doubt (and holds the lock) until it learns the outcome
    /// (`InDoubtSpan.excludingDownTime` then cuts out the time it was down).
    private var open: [Wait: Int] = [:]

    public init() {}

    public mutating func prepared(_ transaction: UInt64, key: String, at node: NodeID, time: Instant) {
        let wait = Wait(transaction: transaction, node: node)
        guard open[wait] == nil else { return }
        open[wait] = spans.count
        spans.append(InDoubtSpan(transaction: transaction, node: node, key: key, start: time))
    }

    public mutating func decided(_ transaction: UInt64, at node: NodeID, time: Instant) {
        guard let index = open.removeValue(forKey: Wait(transaction: transaction, node: node)) else { return }
        spans[index].end = time
        spans[index].ending = .decided
    }
}
