import ConsensusCore

/// Redis's replication backlog: the most recent writes, from which a backup that fell behind or
/// reconnected is served a partial resync instead of a full one.
///
/// Holds at least the last `capacity` writes; it trims in bulk once it holds twice that, so
/// appending stays amortised O(1) without a ring buffer.
struct Backlog {
    private var writes: [StampedRequest] = []
    /// Offset of the write before `writes[0]`.
    private var start: Int
    let capacity: Int

    init(capacity: Int, after offset: Int) {
        self.capacity = capacity
        start = offset
        writes.reserveCapacity(min(capacity, 4_096))
    }

    /// Offset of the last write held.
    var end: Int { start + writes.count }

    mutating func append(_ write: StampedRequest) {
        writes.append(write)
        if writes.count >= 2 * capacity {
            let drop = writes.count - capacity
            writes.removeFirst(drop)
            start += drop
        }
    }

    /// Empties the backlog after a full resync to `offset`.
    mutating func reset(after offset: Int) {
        writes.removeAll(keepingCapacity: true)
        start = offset
    }

    /// Whether a backup at `offset` can be served the writes after it (`repl-backlog-size` bounds how
    /// far back that reaches).
    func canServe(after offset: Int) -> Bool {
        offset <= end && offset >= max(start, end - capacity)
    }

    /// The writes after `offset`; only when `canServe(after: offset)`.
    func writes(after offset: Int) -> ArraySlice<StampedRequest> {
        writes[(offset - start)...]
    }
}
