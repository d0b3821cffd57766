import ConsensusCore

/// Storage for the simulator: the durable state lives in memory, and `crash()` throws away what was
/// not synced, exactly as a machine losing power would.
public struct MemoryStorage<Entry: BinaryCodable & Sendable, HardState: BinaryCodable & Sendable & Equatable>: NodeStorage, Sendable {
    /// What survives a crash.
    public private(set) var durable = StoredState<Entry, HardState>()
    /// Applied since the last sync; lost by a crash.
    public private(set) var unsynced: [PersistOp<Entry, HardState>] = []

    public init() {}

    public mutating func apply(_ op: PersistOp<Entry, HardState>) throws(StorageError) {
        unsynced.append(op)
    }

    public mutating func sync() throws(StorageError) {
        for op in unsynced { try durable.apply(op) }
        unsynced.removeAll(keepingCapacity: true)
    }

    public func recover() throws(StorageError) -> RecoveredState<Entry, HardState> {
        var state = durable
        for op in unsynced { try state.apply(op) }
        return state.recovered
    }

    /// The machine loses power: unsynced operations are gone.
    public mutating func crash() {
        unsynced.removeAll()
    }

    /// Number of operations a crash now would lose.
    public var unsyncedCount: Int { unsynced.count }
}
