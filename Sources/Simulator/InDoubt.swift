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
    /// When `node` learned the decision; nil: still in doubt when the run ended.
    public var end: Instant?

    /// Longer than every default timeout of 2PC and 3PC (at most 500 ms), so a wait that the
    /// protocol's own timers end is not counted; a wait this long is blocking. Such spans get lines
    /// in `events.csv` (each of the thousands of round-trip waits would drown it) and count in
    /// `in_doubt_txns`.
    public static let blocking = TimeSpan.seconds(1)

    public var coordinator: NodeID { ObservableEvent.coordinator(ofTransaction: transaction) }

    /// How long `node` was in doubt; a span still open counts until `runEnd`.
    public func duration(until runEnd: Instant) -> TimeSpan { (end ?? runEnd) - start }

    /// The `inDoubt` lines of the blocking spans, and a `coordinatedInDoubt` line at each
    /// coordinator of one (from the first participant's doubt to the last one's decision),
    /// merged into `events` in time order; events at the same time keep their order.
    public static func merge(_ spans: [InDoubtSpan], into events: [EventRecord], end runEnd: Instant) -> [EventRecord] {
        let blocking = spans.filter { $0.duration(until: runEnd) >= Self.blocking }
        guard !blocking.isEmpty else { return events }
        var added = blocking.map { span in
            EventRecord(time: span.start, node: span.node,
                        event: .inDoubt(transaction: span.transaction, key: span.key, duration: span.duration(until: runEnd), resolved: span.end != nil))
        }
        for (transaction, participants) in Dictionary(grouping: blocking, by: \.transaction).sorted(by: { $0.key < $1.key }) {
            let start = participants.map(\.start).min()!, last = participants.map { $0.end ?? runEnd }.max()!
            added.append(EventRecord(time: start, node: participants[0].coordinator,
                                     event: .coordinatedInDoubt(transaction: transaction, key: participants[0].key, duration: last - start,
                                                                resolved: participants.allSatisfy { $0.end != nil })))
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
    /// and the restarted node is in doubt (and holds the lock) until it learns the outcome.
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
    }
}
