import ConsensusCore
import Storage

/// The storage a host runs a node on, as a driver that can crash machines needs it: a node's durable
/// state plus the power cut. A real runtime's storage never crashes on request (the process dies
/// instead), which is why this refines `NodeStorage` rather than being part of it.
public protocol HostStorage: NodeStorage {
    /// Opens the storage for a node starting now and returns what it holds: what a first start or a
    /// restart after `crash()` finds. A storage that keeps its state in files opens them again
    /// here, so their recovery (torn-tail repair, checksums) runs on every restart.
    mutating func open() throws(StorageError) -> RecoveredState<Entry, HardState>
    /// Makes at least the oldest `count` unsynced operations durable (one sync of a disk that
    /// serialises them; a storage that can only sync everything syncs everything).
    mutating func sync(first count: Int) throws(StorageError)
    /// The machine loses power: what was not synced is gone (or damaged, as the storage models it).
    mutating func crash()
    /// Operations a crash now would lose.
    var unsyncedCount: Int { get }
}

extension MemoryStorage: HostStorage {
    /// A memory has nothing to reopen: its durable part is what a restart finds.
    public mutating func open() throws(StorageError) -> RecoveredState<Entry, HardState> { try recover() }
}
