import ConsensusCore

/// Storage for the simulator: the durable state lives in memory, and `crash()` throws away what was
/// not synced, exactly as a machine losing power would.
public struct MemoryStorage<Entry: BinaryCodable & Sendable, HardState: BinaryCodable & Sendable & Equatable>: NodeStorage, Sendable {
    /// What survives a crash.
    public private(set) var durable = StoredState<Entry, HardState>()
    /// Applied since the last sync; lost by a crash.
    private(set) var unsynced: [PersistOp<Entry, HardState>] = []
    /// `durable` with `unsynced` applied. `apply` validates each operation against it, so an invalid
    /// operation is rejected at once instead of entering `unsynced`, where it would make every later
    /// `sync` fail after applying part of the batch.
    private var current = StoredState<Entry, HardState>()

    public init() {}

    public mutating func apply(_ op: PersistOp<Entry, HardState>) throws(StorageError) {
        try current.apply(op)
        unsynced.append(op)
    }

    public mutating func sync() throws(StorageError) {
        // Cannot throw: `current` accepted exactly these operations from exactly this state.
        for op in unsynced { try durable.apply(op) }
        unsynced.removeAll(keepingCapacity: true)
    }

    /// Makes the oldest `count` unsynced operations durable: one sync of a disk that serialises
    /// them, leaving later writes still exposed to a crash.
    public mutating func sync(first count: Int) throws(StorageError) {
        let count = min(count, unsynced.count)
        for op in unsynced.prefix(count) { try durable.apply(op) }
        unsynced.removeFirst(count)
    }

    public func recover() throws(StorageError) -> RecoveredState<Entry, HardState> {
        current.recovered
    }

    /// The machine loses power: unsynced operations are gone.
    public mutating func crash() {
        current = durable
        unsynced.removeAll()
    }

    /// Number of operations a crash now would lose.
    public var unsyncedCount: Int { unsynced.count }
}
