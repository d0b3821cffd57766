import ConsensusCore
import NodeHost
import Storage

/// A simulated node's durable storage, as `StorageModel.engine` chooses it: `MemoryStorage`, or the
/// real write-ahead log (`FileStorage`) over a `SimulatedFileSystem` of the node's own, so that the
/// log's recovery — torn-tail repair, checksums, segment and snapshot files — runs under the
/// simulator's crashes and the disk faults drawn from the seed.
///
/// Two optionals rather than an enum: the memory engine is mutated in place on every step, and an
/// enum payload would be copied out and back each time.
@usableFromInline struct SimulatedStorage<Entry: BinaryCodable & Sendable, HardState: BinaryCodable & Sendable & Equatable>: HostStorage {
    @usableFromInline private(set) var memory: MemoryStorage<Entry, HardState>?
    @usableFromInline private(set) var disk: FileDisk?

    /// `seed` draws the disk's faults (file engine); each node has its own.
    init(model: StorageModel, seed: UInt64) {
        switch model.engine {
        case .memory: memory = MemoryStorage()
        case .file: disk = FileDisk(fileSystem: SimulatedFileSystem(seed: seed, faults: model.faults, syncLatency: model.syncLatency))
        }
    }

    @inlinable mutating func apply(_ op: PersistOp<Entry, HardState>) throws(StorageError) {
        if memory != nil { try memory!.apply(op) } else { try disk!.apply(op) }
    }

    @inlinable mutating func sync() throws(StorageError) {
        if memory != nil { try memory!.sync() } else { try disk!.sync() }
    }

    /// The file engine syncs its whole log at once, so it makes everything durable.
    @inlinable mutating func sync(first count: Int) throws(StorageError) {
        if memory != nil { try memory!.sync(first: count) } else { try disk!.sync() }
    }

    @inlinable func recover() throws(StorageError) -> RecoveredState<Entry, HardState> {
        if let memory { try memory.recover() } else { try disk!.recover() }
    }

    @inlinable mutating func open() throws(StorageError) -> RecoveredState<Entry, HardState> {
        if memory != nil { try memory!.open() } else { try disk!.open() }
    }

    @inlinable mutating func crash() {
        if memory != nil { memory!.crash() } else { disk!.crash() }
    }

    @inlinable var unsyncedCount: Int { memory?.unsyncedCount ?? disk!.unsyncedCount }

    /// The file engine: one node's directory (`DirectoryLog`) on its simulated disk, which
    /// outlives every log opened on it, one per incarnation of the node.
    @usableFromInline final class FileDisk {
        /// The node's medium: it survives crashes, and its faults are drawn from the node's seed.
        let fileSystem: SimulatedFileSystem
        @usableFromInline let directory: DirectoryLog<Entry, HardState>
        /// Damage to synced data (`DiskFaultCounts.damage`) injected before the latest successful
        /// open that the recovery did not refuse: the log may have lost acknowledged records
        /// without knowing it (a lost write at the end of the log, a bit flip in its last record).
        private(set) var unnoticedDamage = DiskFaultCounts()
        /// The damage injected up to the previous open.
        private var damageSeen = DiskFaultCounts()

        init(fileSystem: SimulatedFileSystem) {
            self.fileSystem = fileSystem
            directory = DirectoryLog(directory: "node", fileSystem: fileSystem)
        }

        @usableFromInline var unsyncedCount: Int { directory.unsyncedCount }

        @usableFromInline func apply(_ op: PersistOp<Entry, HardState>) throws(StorageError) { try directory.apply(op) }

        @usableFromInline func sync() throws(StorageError) { try directory.sync() }

        @usableFromInline func recover() throws(StorageError) -> RecoveredState<Entry, HardState> { try directory.recover() }

        /// Opens the directory as a restarted process would. Damage injected since the previous
        /// open is either refused here (the node stays down) or goes unnoticed, which
        /// `unnoticedDamage` records.
        @usableFromInline func open() throws(StorageError) -> RecoveredState<Entry, HardState> {
            let recovered = try directory.open()
            // The simulator does not time a start (it is instant, as on the memory engine), so
            // the syncs of opening and repairing the log delay no output.
            _ = fileSystem.takeSyncLatency()
            let damage = fileSystem.injected.damage
            unnoticedDamage = damage - damageSeen
            damageSeen = damage
            return recovered
        }

        /// Power fails: the cache is gone, and what the medium keeps is up to the disk's faults.
        @usableFromInline func crash() {
            fileSystem.crash()
            directory.crash()
        }
    }
}
