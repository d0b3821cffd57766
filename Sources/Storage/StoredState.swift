import ConsensusCore

/// The logical content of a node's storage and the one definition of how each `PersistOp` changes
/// it. `MemoryStorage` keeps it in memory; `FileStorage` rebuilds it by replaying its log records.
public struct StoredState<Entry: Sendable, HardState: Sendable>: Sendable {
    public var hardState: HardState?
    public var snapshot: Snapshot?
    public var entries: [Entry] = []
    /// Index of `entries[0]`.
    public var firstIndex: LogIndex = 1

    public init() {}

    public var lastIndex: LogIndex { firstIndex + entries.count - 1 }

    /// Index of the last entry the snapshot covers (0 without a snapshot).
    public var snapshotIndex: LogIndex { snapshot?.lastIndex ?? 0 }

    /// Applies `op`, or throws `invalidOperation` without changing anything (storage backends rely
    /// on this to validate an operation before they make it durable).
    public mutating func apply(_ op: PersistOp<Entry, HardState>) throws(StorageError) {
        switch op {
        case .hardState(let state):
            hardState = state
        case .append(let first, let newEntries):
            guard first >= 1 else {
                throw .invalidOperation("append at index \(first): log indexes start at 1")
            }
            guard first <= lastIndex + 1 else {
                throw .invalidOperation("append at index \(first) leaves a gap after last index \(lastIndex)")
            }
            // Entries the snapshot already covers are committed and identical; skip them.
            let skip = max(0, firstIndex - first)
            guard skip < newEntries.count else { return }
            truncate(from: first + skip)
            entries.append(contentsOf: newEntries[skip...])
        case .truncate(let index):
            truncate(from: index)
        case .snapshot(let newSnapshot):
            guard newSnapshot.lastIndex >= 0 else {
                throw .invalidOperation("snapshot at index \(newSnapshot.lastIndex): indexes are not negative")
            }
            guard newSnapshot.lastIndex > snapshotIndex || snapshot == nil else { return }
            let keep = newSnapshot.lastIndex + 1
            if keep > lastIndex {
                entries.removeAll()
            } else if keep > firstIndex {
                entries.removeFirst(keep - firstIndex)
            }
            firstIndex = keep
            snapshot = newSnapshot
        }
    }

    private mutating func truncate(from index: LogIndex) {
        let position = max(index, firstIndex) - firstIndex
        if position < entries.count { entries.removeSubrange(position...) }
    }

    public var recovered: RecoveredState<Entry, HardState> {
        RecoveredState(hardState: hardState, snapshot: snapshot, entries: entries, firstIndex: firstIndex)
    }
}
