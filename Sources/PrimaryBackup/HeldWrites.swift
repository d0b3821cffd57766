import ConsensusCore

/// Replication lag, made explicit: each write the primary acknowledges is held back from its
/// backups until `replicationLag` after the acknowledgement. Until then it exists on the primary
/// alone, which is the window in which a crash of the primary loses it.
struct HeldWrites {
    private var held: [(offset: Int, due: Instant)] = []
    private var head = 0

    /// When the oldest held write may leave.
    var nextRelease: Instant? { head < held.count ? held[head].due : nil }

    mutating func hold(_ offset: Int, until due: Instant) { held.append((offset, due)) }

    /// Releases every write due by `now`; the offset of the last one released, if any.
    mutating func release(by now: Instant) -> Int? {
        var released: Int?
        while head < held.count, held[head].due <= now {
            released = held[head].offset
            head += 1
        }
        if head == held.count {
            held.removeAll(keepingCapacity: true)
            head = 0
        }
        return released
    }

    mutating func clear() {
        held.removeAll(keepingCapacity: true)
        head = 0
    }
}
