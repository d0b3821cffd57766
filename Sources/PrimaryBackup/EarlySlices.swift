import ConsensusCore

/// REPLICATEs that reached a backup ahead of its offset, held until the slices before them arrive.
///
/// Redis streams over TCP: a replica never sees its master's writes out of order or twice, so a
/// gap there means a broken link, and the replica reconnects with PSYNC. Our networks reorder and
/// duplicate, so a gap is often a slice that is merely late. The backup still asks for the rest at
/// once (PSYNC, at most once a heartbeat: the gap may be a loss, and waiting to tell would leave
/// its reads staler on a lossy link), but it keeps the early slices, as a receiver over datagrams
/// keeps out-of-order segments: the late slice then closes the gap as soon as it comes, without
/// waiting for the PSYNC's answer, whose writes are by then duplicates, dropped by offset.
struct EarlySlices {
    /// Sorted by `prevOffset`.
    private var slices: [PrimaryBackup.Replicate] = []
    private var writes = 0
    /// At most this many writes are held (the primary's backlog): a gap that long is served by a
    /// resync anyway.
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    mutating func hold(_ slice: PrimaryBackup.Replicate) {
        guard !slice.writes.isEmpty, writes + slice.writes.count <= capacity,
              !slices.contains(where: { $0.config == slice.config && $0.prevOffset == slice.prevOffset && $0.writes.count >= slice.writes.count }) else { return }
        slices.insert(slice, at: slices.firstIndex { $0.prevOffset > slice.prevOffset } ?? slices.count)
        writes += slice.writes.count
    }

    /// The first held slice that a node at `offset` of `history` can apply (in part, or not at all
    /// if it holds it already), removed. Slices of another history (the backup has switched to the
    /// primary's new one, or resynchronised since) are dropped on the way.
    mutating func takeFirst(reachedBy offset: Int, of history: PrimaryBackup.Configuration?) -> PrimaryBackup.Replicate? {
        while let first = slices.first, first.prevOffset <= offset || first.config != history {
            slices.removeFirst()
            writes -= first.writes.count
            if first.config == history { return first }
        }
        return nil
    }

    mutating func clear() {
        slices.removeAll()
        writes = 0
    }
}
