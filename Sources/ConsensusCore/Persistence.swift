/// One change to a node's durable state, emitted by a backend and applied by the driver's storage.
///
/// Log positions are explicit so that storage can apply operations without knowing the protocol.
public enum PersistOp<Entry: Sendable, HardState: Sendable>: Sendable {
    /// Replace the hard state (Raft: term and vote; ZAB: epochs).
    case hardState(HardState)
    /// Write `entries` at `firstIndex`, `firstIndex + 1`, …; any entries at or after `firstIndex`
    /// are replaced (Raft §5.3: a conflicting suffix is deleted before the new entries are appended).
    case append(firstIndex: LogIndex, entries: [Entry])
    /// Drop every entry at or after `index` (ZAB TRUNC; Raft conflict resolution without new entries).
    case truncate(from: LogIndex)
    /// Save a snapshot and compact: entries up to `snapshot.lastIndex` are dropped and later ones
    /// kept (storage cannot compare terms). A backend that must discard a conflicting suffix (Raft §7:
    /// InstallSnapshot when the follower's log conflicts) also emits `.truncate(from:)`. A snapshot
    /// not newer than the stored one is ignored.
    case snapshot(Snapshot)
}

/// A state-machine image covering the log up to `lastIndex`.
public struct Snapshot: Hashable, Sendable {
    public var lastIndex: LogIndex
    /// Term (Raft) or zxid (ZAB) of the entry at `lastIndex`.
    public var lastTerm: UInt64
    /// The encoded state machine (`KVStore.snapshot()`), opaque to storage.
    public var data: [UInt8]

    public init(lastIndex: LogIndex, lastTerm: UInt64, data: [UInt8]) {
        self.lastIndex = lastIndex
        self.lastTerm = lastTerm
        self.data = data
    }
}

/// What a node finds in its storage when it starts: everything that was synced before a crash.
public struct RecoveredState<Entry: Sendable, HardState: Sendable>: Sendable {
    public var hardState: HardState?
    public var snapshot: Snapshot?
    /// Log entries after the snapshot; `entries[0]` has index `firstIndex`.
    public var entries: [Entry]
    public var firstIndex: LogIndex

    public init(hardState: HardState? = nil, snapshot: Snapshot? = nil, entries: [Entry] = [], firstIndex: LogIndex? = nil) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
        self.firstIndex = firstIndex ?? (snapshot?.lastIndex ?? 0) + 1
    }

    /// A node that has never run.
    public static var empty: RecoveredState { RecoveredState() }

    /// Index of the last entry recovered (or of the snapshot when the log is empty).
    public var lastIndex: LogIndex { firstIndex + entries.count - 1 }
}
