import ConsensusCore
import Storage

/// One node as every driver runs it: the backend's step loop with the node's own effects buffer,
/// its storage, the durability gate in front of its outputs, and crash semantics.
///
/// A driver (the simulator; a runtime process) supplies the plugs: it decides when inputs arrive
/// and what time it is, carries outputs to peers and clients, and runs the disk — it starts a sync
/// for `seal()`'s mark and calls `release(_:incarnation:_:)` when the sync completed. Everything
/// the safety of a backend rests on is here, once: writes are applied before any output of their
/// step is handed out; an output that depends on an unsynced write waits for it; a crash loses
/// unsynced writes and exactly the outputs that waited for them; a restart recovers what storage
/// synced. As etcd's raft `Ready`, a step finishes completely before the driver looks at its
/// effects, so nothing a driver does with them (a fault it triggers, another node it steps) can
/// reach into this step.
///
/// `Output` is the driver's own form of a held output.
public struct NodeHost<Backend: ReplicationBackend, Storage: HostStorage, Output>
where Storage.Entry == Backend.Entry, Storage.HardState == Backend.HardState {
    public let id: NodeID
    public let cluster: [NodeID]
    public let options: Backend.Options
    /// Whether outputs wait for the disk. `false` is the deliberately unsafe mode (`fsync: false`,
    /// like ZooKeeper's `forceSync=no`): outputs leave at once and writes become durable only when
    /// the driver flushes.
    public let waitsForDisk: Bool
    public private(set) var backend: Backend?
    public private(set) var storage: Storage
    /// The effects of this node's latest step; emptied by the next one.
    public private(set) var effects = Effects<Backend>()
    private var gate = DurabilityGate<Output>()
    /// Counts crashes: a release sealed before a crash belongs to an incarnation that is gone.
    public private(set) var incarnation = 0

    public init(id: NodeID, cluster: [NodeID], options: Backend.Options, storage: Storage, waitsForDisk: Bool) {
        self.id = id
        self.cluster = cluster
        self.options = options
        self.storage = storage
        self.waitsForDisk = waitsForDisk
    }

    public var isUp: Bool { backend != nil }

    // MARK: Life cycle

    /// Starts the backend from what storage synced (empty on a first start); returns what it found.
    /// A storage that cannot be recovered (a corrupt record) leaves the node down.
    public mutating func start(seed: UInt64) throws(StorageError) -> RecoveredState<Backend.Entry, Backend.HardState> {
        precondition(!isUp, "\(id) is already running")
        let recovered = try storage.open()
        backend = Backend(id: id, cluster: cluster, options: options, recovered: recovered, seed: seed)
        return recovered
    }

    /// The machine loses power: the backend's memory, unsynced writes and the outputs that waited
    /// for them are gone. Returns how many storage operations were lost and the dropped outputs.
    public mutating func crash() -> (lostWrites: Int, dropped: [Output]) {
        precondition(isUp, "\(id) is not running")
        backend = nil
        let lost = storage.unsyncedCount
        storage.crash()
        effects.removeAll()
        incarnation += 1
        return (lost, gate.crash())
    }

    // MARK: Steps

    /// Feeds one input and applies the storage operations it asked for (the first rule of the
    /// backend contract: storage before anything else). Its messages, replies and events are in
    /// `effects` for the driver. A storage error leaves the effects undelivered: the driver must
    /// stop the node, as etcd and PostgreSQL do after a failed write.
    public mutating func step(_ input: Input<Backend.Message>, at now: Instant) throws(StorageError) {
        try step { backend, effects in backend.step(input, at: now, into: &effects) }
    }

    /// One step of any kind: the backend fills the node's own (emptied) effects buffer, then its
    /// storage operations are applied.
    mutating func step(_ body: (inout Backend, inout Effects<Backend>) -> Void) throws(StorageError) {
        precondition(isUp, "\(id) is not running")
        effects.removeAll()
        body(&backend!, &effects)
        guard !effects.storage.isEmpty else { return }
        for op in effects.storage { try storage.apply(op) }
        gate.wrote(effects.storage.count)
    }

    /// Whether the latest step wrote to storage.
    public var wrote: Bool { !effects.storage.isEmpty }

    // MARK: Durability gate

    /// Whether an output computed now must be held (some write it may depend on is not durable).
    public var mustHold: Bool { waitsForDisk && gate.mustHold }

    public mutating func hold(_ output: consuming Output) { gate.hold(output) }

    /// What a sync started now must cover for everything held so far to leave; `nil` when nothing waits.
    public func seal() -> ReleaseMark? { waitsForDisk ? gate.seal() : nil }

    /// A sync covering `mark`, sealed by incarnation `incarnation`, completed: the writes become
    /// durable, then the outputs they held back go to `leave`, oldest first, each moved out of the
    /// host (`leave` must not use the host). A crash since then lost both, so a stale release hands
    /// over nothing.
    public mutating func release(_ mark: ReleaseMark, incarnation: Int, _ leave: (consuming Output) -> Void) throws(StorageError) {
        guard isUp, incarnation == self.incarnation else { return }
        let newlySynced = gate.synced(mark)
        if newlySynced > 0 { try storage.sync(first: newlySynced) }
        gate.release(mark, leave)
    }

    /// Everything written is synced and everything held may leave, now.
    public mutating func releaseEverything(_ leave: (consuming Output) -> Void) throws(StorageError) {
        guard waitsForDisk, let mark = gate.seal() else { return }
        try release(mark, incarnation: incarnation, leave)
    }

    /// The unsafe mode's periodic flush: whatever was written becomes durable.
    public mutating func flush() throws(StorageError) {
        try storage.sync()
    }
}
