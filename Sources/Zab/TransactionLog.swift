import ConsensusCore

/// The transaction log a node holds in memory: its history after `base`, in zxid order.
///
/// Positions are log indexes (the first transaction ever is index 1). Two nodes whose histories
/// agree up to a zxid hold it at the same index, so indexes and zxids name the same places on every
/// node. Entries up to the last snapshot may stay in memory after storage compacted them: like
/// ZooKeeper's `committedLog`, they let the leader send a DIFF to a follower that is only a little
/// behind.
package struct TransactionLog: Sendable {
    package private(set) var entries: [Transaction] = []
    /// Index of `entries[0]`.
    package private(set) var firstIndex: LogIndex
    /// The zxid at `firstIndex - 1` (a snapshot's, or `.zero` at the very beginning).
    private(set) var baseZxid: Zxid

    init(baseIndex: LogIndex = 0, baseZxid: Zxid = .zero) {
        firstIndex = baseIndex + 1
        self.baseZxid = baseZxid
    }

    package var lastIndex: LogIndex { firstIndex + entries.count - 1 }
    package var lastZxid: Zxid { entries.last?.zxid ?? baseZxid }

    /// The transaction at `index`, if still in memory.
    package func transaction(at index: LogIndex) -> Transaction? {
        index >= firstIndex && index <= lastIndex ? entries[index - firstIndex] : nil
    }

    /// The zxid at `index`: the base's at `firstIndex - 1`, nil outside memory.
    package func zxid(at index: LogIndex) -> Zxid? {
        index == firstIndex - 1 ? baseZxid : transaction(at: index)?.zxid
    }

    /// Index of the last transaction whose zxid is at most `zxid` (`firstIndex - 1` if none is).
    func lastIndex(atOrBefore zxid: Zxid) -> LogIndex {
        var low = 0, high = entries.count
        while low < high {
            let mid = (low + high) / 2
            if entries[mid].zxid <= zxid { low = mid + 1 } else { high = mid }
        }
        return firstIndex + low - 1
    }

    /// Index of exactly `zxid`, if it is in memory or is the base.
    func index(of zxid: Zxid) -> LogIndex? {
        let index = lastIndex(atOrBefore: zxid)
        return self.zxid(at: index) == zxid ? index : nil
    }

    mutating func append(_ transaction: Transaction) {
        entries.append(transaction)
    }

    /// Drops every transaction after `index` (ZAB TRUNC).
    mutating func truncate(after index: LogIndex) {
        let keep = max(index - firstIndex + 1, 0)
        if keep < entries.count { entries.removeSubrange(keep...) }
    }

    /// Forgets transactions up to `index` in memory (they are in a snapshot).
    mutating func forget(through index: LogIndex) {
        guard index >= firstIndex else { return }
        let drop = min(index - firstIndex + 1, entries.count)
        baseZxid = entries[drop - 1].zxid
        entries.removeFirst(drop)
        firstIndex += drop
    }

    /// Replaces the whole log by a snapshot's position (SNAP sync).
    mutating func reset(baseIndex: LogIndex, baseZxid: Zxid) {
        entries.removeAll()
        firstIndex = baseIndex + 1
        self.baseZxid = baseZxid
    }

    /// What a follower tells a new leader about its history (sent with ACKEPOCH).
    func summary(snapshotZxid: Zxid) -> HistorySummary {
        var tails: [HistorySummary.EpochTail] = []
        for entry in entries where entry.zxid > snapshotZxid {
            if let last = tails.last, last.epoch == entry.zxid.epoch {
                tails[tails.count - 1].counter = entry.zxid.counter
            } else {
                tails.append(.init(epoch: entry.zxid.epoch, counter: entry.zxid.counter))
            }
        }
        return HistorySummary(lastZxid: lastZxid, snapshotZxid: snapshotZxid, tails: tails)
    }
}
