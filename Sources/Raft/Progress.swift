import ConsensusCore

/// What a leader knows about one follower's log (Figure 2's `nextIndex`/`matchIndex`, with etcd's
/// replication states so that pipelining and back-off do not fight).
struct Progress: Sendable {
    enum State: Equatable, Sendable {
        /// The leader does not know where the logs agree: one AppendEntries at a time, then wait
        /// for the answer (or the next heartbeat reply, in case it was lost).
        case probe
        /// The logs agree up to `match`: entries stream optimistically from `next`, at most
        /// `maxInflight` messages unacknowledged.
        case replicate
        /// The entries the follower needs are compacted: the leader sends it its snapshot, a chunk
        /// at a time, and the transfer knows how far the follower has got (Figure 13).
        case snapshot(SnapshotTransfer)
    }

    var state = State.probe
    var next: LogIndex
    var match: LogIndex = 0
    /// Probe: a probe is outstanding.
    var paused = false
    /// Replicate: the last index of each unacknowledged AppendEntries, in sending order.
    var inflight: [LogIndex] = []
    /// Heard from since the last CheckQuorum (thesis §6.2).
    var recentlyActive = false
    /// Highest read round the follower has acknowledged.
    var ackedRound: UInt64 = 0

    init(next: LogIndex, maxInflight: Int) {
        self.next = next
        inflight.reserveCapacity(maxInflight)
    }

    mutating func becomeProbe() {
        state = .probe
        next = match + 1
        paused = false
        inflight.removeAll(keepingCapacity: true)
    }

    mutating func becomeReplicate() {
        state = .replicate
        next = match + 1
        paused = false
        inflight.removeAll(keepingCapacity: true)
    }

    /// An acknowledgement that the follower holds the leader's entries through `index`.
    /// Returns whether `match` advanced.
    mutating func acknowledge(_ index: LogIndex) -> Bool {
        let advanced = index > match
        if advanced { match = index }
        next = max(next, index + 1)
        var freed = 0
        while freed < inflight.count, inflight[freed] <= index { freed += 1 }
        if freed > 0 { inflight.removeFirst(freed) }
        return advanced
    }
}
