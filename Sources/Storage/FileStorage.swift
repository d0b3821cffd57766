import ConsensusCore

/// `NodeStorage` on disk: a write-ahead log in segment files plus snapshot files, in one directory
/// per node (file names: `StorageDirectory`; record layout: `RecordFrame`), over a `FileSystem`:
/// the real one, or a `SimulatedFileSystem` that crashes and misbehaves on demand.
///
/// **Records.** Each log record is one `PersistOp`: length-prefixed, CRC-32C-checked (the checksum
/// covers the record's offset too), a type byte, a `ByteWriter` payload (entries through
/// `BinaryCodable`). Recovery replays the records through `StoredState.apply`, so what an operation
/// means is defined in one place. A snapshot is logged by its position only; its image lives in its
/// own snapshot file.
///
/// **Durability.** `apply` checks the operation against the in-memory state (an invalid one is
/// rejected and changes nothing) and `write`s its record to the last segment; `sync` fsyncs that
/// segment. Past `Options.segmentSize` the log rotates: the full segment is fsynced, the next one
/// created with a *segment start* record saying how long the full one is, fsynced, and the directory
/// fsynced, so every segment but the last is complete and durable, the sequence of segments has no
/// gaps, and a segment that lost synced writes at its end (a disk that acknowledged an fsync it did
/// not do) is caught by its successor's start record rather than silently skipped. After an I/O
/// error the in-memory state may be ahead of the disk, so the storage refuses every further
/// operation (as etcd and PostgreSQL do after a failed fsync); open the directory again to recover
/// what is durable.
///
/// **Torn tail or corruption.** Only the end of the last segment can hold unsynced bytes, so only
/// there can a crash leave a damaged record: cut short, zero-filled or garbage where the write never
/// reached the disk. The rule: a *damaged* record (incomplete header, length 0 or past the end of
/// the file, checksum mismatch) is a **torn tail** when it lies in the last segment and no intact
/// record begins at any later byte of that segment. Its bytes up to the end of the file are then
/// cut off and reported in `lastRecovery` (`droppedBytes`, `tornFile`). Everything else is
/// `StorageError.corruptRecord` naming the file and the record's offset, and the directory is left
/// untouched:
/// - a damaged record in any other segment (those were fsynced before the next one was created);
/// - a damaged or missing record of a checkpoint's image (below): the checkpoint was fsynced whole
///   before it was renamed into place, so its records are never a torn write, even at the very end;
/// - a segment after the first replayed one that does not begin with an intact segment start
///   record, or whose start record gives its predecessor a length other than the one it has;
/// - a damaged record followed by an intact one: later writes reached the disk, so the damage is not
///   the end of an interrupted write. Every later byte is tried as a record start, not only the one
///   the damaged length points to, since the length may be the damaged part;
/// - an intact record (valid checksum) whose payload does not decode, or that `StoredState.apply`
///   rejects: a crash does not produce valid checksums, so this is a bug or a foreign file.
/// The price: damage to the very last record cannot be told from a torn write, so that record is
/// dropped even if it had been synced; `droppedBytes` makes it visible. The idea follows etcd's WAL,
/// which repairs an unexpected end of file (or a zero-filled sector) in its last segment and refuses
/// other checksum mismatches; this rule is a little more lenient at the very end (any damage with
/// nothing intact after it) and stricter before it (any intact record after the damage).
///
/// **Snapshots and compaction.** `apply(.snapshot(s))` with `s` newer than the stored snapshot is
/// synchronous:
/// 1. `snapshot-<s.lastIndex>.snap.tmp` is written and fsynced, renamed, the directory fsynced;
/// 2. a *checkpoint* segment `wal-<next>.log.tmp` is written with the snapshot record and its
///    *image*, the hard state and the retained entries (the whole state, including what was not yet
///    synced; the snapshot record says how many records the image has), fsynced, renamed, the
///    directory fsynced; it becomes the segment appended to;
/// 3. older segments and the older snapshot file are deleted.
/// Recovery replays from the newest segment whose first record is a snapshot record (a checkpoint),
/// or else from segment 1, and then deletes temporary files, older segments and unused snapshot
/// files. So a crash at any point recovers a consistent state: during 1 the old log is intact and the
/// `.tmp` is debris; between 1 and 2 the new snapshot file is referenced by nothing; during 2 the
/// checkpoint is still a `.tmp`; after 2 it is the base, whatever step 3 had deleted.
public final class FileStorage<Entry: BinaryCodable & Sendable, HardState: BinaryCodable & Sendable & Equatable>: NodeStorage {
    public struct Options: Sendable {
        /// A segment that would grow past this many bytes is closed and a new one started.
        public var segmentSize: Int

        public init(segmentSize: Int = 4 << 20) {
            self.segmentSize = segmentSize
        }
    }

    private typealias Record = LogRecord<Entry, HardState>

    public let directory: String
    public let options: Options
    /// What opening the directory found: segments replayed, torn bytes dropped, leftovers deleted.
    public let lastRecovery: RecoveryReport

    private let files: StorageDirectory
    private var fileSystem: any FileSystem { files.fileSystem }
    /// The state the records written so far describe.
    private var state: StoredState<Entry, HardState>
    /// Segments `oldestSegment...activeSequence` exist; records are appended to the last one.
    private var oldestSegment: UInt64
    private var active: OpenFile
    private var activeSequence: UInt64
    private var activeSize: Int
    private var hasUnsyncedWrites = false
    /// Exclusive lock on the directory, held while open.
    private let lock: OpenFile
    /// Set by `close` or by a failed I/O operation; every later operation throws it.
    private var unusable: StorageError?
    private var isClosed = false

    /// Opens (creating if needed) the storage in `directory` of `fileSystem` and recovers its state;
    /// see the type's documentation for what a damaged log leads to. A simulator passes a
    /// `SimulatedFileSystem` and keeps it across the node's crash and reopen.
    public init(directory: String, options: Options = Options(), fileSystem: any FileSystem = PosixFileSystem()) throws(StorageError) {
        try fileSystem.createDirectory(directory)
        let lock = try fileSystem.lock(directory)
        let files = StorageDirectory(path: directory, fileSystem: fileSystem)
        let opened: LogRecovery<Entry, HardState>.Opened
        do {
            opened = try LogRecovery.open(files)
        } catch {
            fileSystem.close(lock)
            throw error
        }
        self.directory = directory
        self.options = options
        self.files = files
        self.lock = lock
        lastRecovery = opened.report
        state = opened.state
        oldestSegment = opened.oldestSegment
        active = opened.active
        activeSequence = opened.activeSequence
        activeSize = opened.activeSize
    }

    deinit {
        if !isClosed {
            fileSystem.close(active)
            fileSystem.close(lock)
        }
    }

    public func apply(_ op: PersistOp<Entry, HardState>) throws(StorageError) {
        try ensureUsable()
        if case .snapshot(let snapshot) = op { return try install(snapshot) }
        try state.apply(op)
        try failing { () throws(StorageError) in try append(op) }
    }

    public func sync() throws(StorageError) {
        try ensureUsable()
        guard hasUnsyncedWrites else { return }
        try failing { () throws(StorageError) in try fileSystem.sync(active) }
        hasUnsyncedWrites = false
    }

    public func recover() throws(StorageError) -> RecoveredState<Entry, HardState> {
        try ensureUsable()
        return state.recovered
    }

    /// Syncs and closes the log, releasing the directory. Calling it again does nothing; any other
    /// operation afterwards throws.
    public func close() throws(StorageError) {
        guard !isClosed else { return }
        defer {
            fileSystem.close(active)
            fileSystem.close(lock)
            isClosed = true
            unusable = .invalidOperation("the FileStorage in \(directory) is closed")
        }
        if unusable == nil { try sync() }
    }

    // MARK: Writing

    private func append(_ op: PersistOp<Entry, HardState>) throws(StorageError) {
        let (type, payload) = Record.body(op)
        if activeSize > 0, activeSize + RecordFrame.size(payloadCount: payload.count) > options.segmentSize { try rotate() }
        let record = RecordFrame.encode(type: type, payload: payload, at: activeSize)
        try fileSystem.write(record, to: active)
        activeSize += record.count
        hasUnsyncedWrites = true
    }

    /// Closes the full segment durably and starts the next one (see "Durability" above).
    private func rotate() throws(StorageError) {
        try fileSystem.sync(active)
        let next = try fileSystem.create(files.file(StorageDirectory.segmentName(activeSequence + 1)))
        let start = Record.startOfSegment(after: activeSize)
        do throws(StorageError) {
            try fileSystem.write(start, to: next)
            try fileSystem.sync(next)
            try fileSystem.syncDirectory(directory)
        } catch {
            fileSystem.close(next)
            throw error
        }
        replaceActive(with: next, size: start.count)
    }

    /// Snapshot and compaction, steps 1–3 of the type's documentation.
    private func install(_ snapshot: Snapshot) throws(StorageError) {
        let previous = state.snapshot
        try state.apply(.snapshot(snapshot))
        // StoredState ignores a snapshot that is not newer than the one it has.
        guard state.snapshot?.lastIndex != previous?.lastIndex else { return }
        try failing { () throws(StorageError) in
            fileSystem.close(try writeAtomically(StorageDirectory.snapshotName(snapshot.lastIndex), SnapshotFile.encode(snapshot)))
            try writeCheckpoint(snapshot)
            for sequence in oldestSegment..<activeSequence {
                try fileSystem.remove(files.file(StorageDirectory.segmentName(sequence)))
            }
            oldestSegment = activeSequence
            if let previous { try fileSystem.remove(files.file(StorageDirectory.snapshotName(previous.lastIndex))) }
        }
    }

    /// Writes a segment holding the whole current state and makes it the one appended to.
    private func writeCheckpoint(_ snapshot: Snapshot) throws(StorageError) {
        var image: [PersistOp<Entry, HardState>] = []
        if let hardState = state.hardState { image.append(.hardState(hardState)) }
        if !state.entries.isEmpty { image.append(.append(firstIndex: state.firstIndex, entries: state.entries)) }
        let records = Record.checkpoint(snapshot, image: image)
        let checkpoint = try writeAtomically(StorageDirectory.segmentName(activeSequence + 1), records)
        replaceActive(with: checkpoint, size: records.count)
    }

    /// Writes `bytes` to `<name>.tmp`, fsyncs it, renames it to `name` and fsyncs the directory, so
    /// that `name` either does not exist or is complete. Returns the file, still open for appending.
    private func writeAtomically(_ name: String, _ bytes: [UInt8]) throws(StorageError) -> OpenFile {
        var file = try fileSystem.overwrite(files.file(name + StorageDirectory.temporarySuffix))
        do {
            try fileSystem.write(bytes, to: file)
            try fileSystem.sync(file)
            try fileSystem.rename(file.path, to: files.file(name))
            file.path = files.file(name)
            try fileSystem.syncDirectory(directory)
            return file
        } catch {
            fileSystem.close(file)
            throw error
        }
    }

    private func replaceActive(with file: OpenFile, size: Int) {
        fileSystem.close(active)
        active = file
        activeSequence += 1
        activeSize = size
        hasUnsyncedWrites = false
    }

    // MARK: Failure

    private func ensureUsable() throws(StorageError) {
        if let unusable { throw unusable }
    }

    /// Runs I/O that changes the files; if it fails, the storage becomes unusable.
    private func failing(_ body: () throws(StorageError) -> Void) throws(StorageError) {
        do {
            try body()
        } catch {
            unusable = error
            throw error
        }
    }
}
