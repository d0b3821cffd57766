import ConsensusCore

/// The in-memory log of one server: the entries after its latest snapshot (§7), addressed by
/// absolute log index. Index `snapshotIndex` is represented by the snapshot's term alone.
package struct RaftLog: Sendable {
    /// Entries `snapshotIndex + 1 … lastIndex`.
    package private(set) var entries: [RaftEntry]
    /// Last index the snapshot covers (0 without a snapshot).
    package private(set) var snapshotIndex: LogIndex
    /// Term of the entry at `snapshotIndex` (0 without a snapshot).
    private(set) var snapshotTerm: Term

    init(snapshotIndex: LogIndex = 0, snapshotTerm: Term = 0, entries: [RaftEntry] = []) {
        self.snapshotIndex = snapshotIndex
        self.snapshotTerm = snapshotTerm
        self.entries = entries
    }

    package var lastIndex: LogIndex { snapshotIndex + entries.count }
    var lastTerm: Term { entries.last?.term ?? snapshotTerm }

    /// The term of the entry at `index`; `nil` when it was compacted into the snapshot or does not exist.
    package func term(at index: LogIndex) -> Term? {
        if index == snapshotIndex { return snapshotTerm }
        guard index > snapshotIndex, index <= lastIndex else { return nil }
        return entries[index - snapshotIndex - 1].term
    }

    /// The entry at `index`, which must lie in `snapshotIndex + 1 … lastIndex`.
    package subscript(index: LogIndex) -> RaftEntry { entries[index - snapshotIndex - 1] }

    /// Whether a candidate's log is at least as up to date as this one (§5.4.1: compare the terms
    /// of the last entries, then the lengths).
    func isBehindOrEqual(lastTerm candidateTerm: Term, lastIndex candidateIndex: LogIndex) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    /// The largest index `≤ index` whose term is `≤ term`, stopping at the snapshot: where a
    /// follower and a leader can next agree. Both sides use it to skip a whole term of conflicting
    /// entries per round trip (§5.3's optimisation, as etcd's `findConflictByTerm`).
    func lastIndex(atMost index: LogIndex, withTermAtMost term: Term) -> LogIndex {
        var candidate = min(index, lastIndex)
        while candidate > snapshotIndex, self.term(at: candidate)! > term { candidate -= 1 }
        return candidate
    }

    /// Up to `limit` entries starting at `index` (which must be past the snapshot).
    func entries(from index: LogIndex, limit: Int) -> [RaftEntry] {
        let start = index - snapshotIndex - 1
        return Array(entries[start..<min(entries.count, start + limit)])
    }

    mutating func append(_ entry: RaftEntry) { entries.append(entry) }

    /// Replaces everything from `index` on with `newEntries` (§5.3: a conflicting suffix goes).
    mutating func replace(from index: LogIndex, with newEntries: ArraySlice<RaftEntry>) {
        entries.removeSubrange((index - snapshotIndex - 1)...)
        entries.append(contentsOf: newEntries)
    }

    /// Drops the entries the snapshot at `index` now covers (§7); later entries stay.
    mutating func compact(through index: LogIndex, term: Term) {
        entries.removeFirst(min(entries.count, index - snapshotIndex))
        snapshotIndex = index
        snapshotTerm = term
    }

    /// Discards the whole log in favour of a snapshot that conflicts with it (§7).
    mutating func reset(toSnapshotAt index: LogIndex, term: Term) {
        entries.removeAll()
        snapshotIndex = index
        snapshotTerm = term
    }
}
