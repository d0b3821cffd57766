import ConsensusCore
import Storage

/// A node's write-ahead log (`FileStorage`) in a directory, as a host runs it: opened at every
/// start, so that recovery — torn-tail repair, checksums, leftovers of an interrupted snapshot —
/// runs each time, and counting what a crash now would lose. The runtime runs it on the real file
/// system, one open per process; the simulator on a simulated disk of the node's own, one open per
/// incarnation. A class because the medium outlives every log opened on it.
public final class DirectoryLog<Entry: BinaryCodable & Sendable, HardState: BinaryCodable & Sendable & Equatable>: HostStorage {
    public let directory: String
    public let fileSystem: any FileSystem
    public let options: FileStorage<Entry, HardState>.Options
    /// The log of the running incarnation; `nil` while the node is down.
    private(set) var log: FileStorage<Entry, HardState>?
    /// Operations applied since the last sync.
    public private(set) var unsyncedCount = 0

    public init(directory: String, fileSystem: any FileSystem = PosixFileSystem(), options: FileStorage<Entry, HardState>.Options = .init()) {
        self.directory = directory
        self.fileSystem = fileSystem
        self.options = options
    }

    /// What the latest open found (segments replayed, torn bytes cut); `nil` before the first.
    public var lastRecovery: RecoveryReport? { log?.lastRecovery }

    /// Opens the directory as a starting process does: `FileStorage` recovers what the medium
    /// holds, repairing a torn tail and refusing a corrupt record (the node must not start then).
    public func open() throws(StorageError) -> RecoveredState<Entry, HardState> {
        log = nil  // releases the directory lock a previous incarnation's log held
        let opened = try FileStorage<Entry, HardState>(directory: directory, options: options, fileSystem: fileSystem)
        log = opened
        unsyncedCount = 0
        return try opened.recover()
    }

    public func apply(_ op: PersistOp<Entry, HardState>) throws(StorageError) {
        try running.apply(op)
        unsyncedCount += 1
    }

    public func sync() throws(StorageError) {
        try running.sync()
        unsyncedCount = 0
    }

    /// One `fdatasync` covers everything written, so syncing the first writes syncs them all.
    public func sync(first count: Int) throws(StorageError) { try sync() }

    public func recover() throws(StorageError) -> RecoveredState<Entry, HardState> { try running.recover() }

    /// The process is gone: the log is dropped unsynced. What the medium keeps of the unsynced
    /// writes is the medium's business (a simulated disk's crash decides; a real one's page cache).
    public func crash() {
        log = nil
        unsyncedCount = 0
    }

    /// Syncs and closes the log (a clean shutdown).
    public func close() throws(StorageError) {
        try log?.close()
        log = nil
    }

    private var running: FileStorage<Entry, HardState> {
        get throws(StorageError) {
            guard let log else { throw .invalidOperation("the log in \(directory) is not open") }
            return log
        }
    }
}
