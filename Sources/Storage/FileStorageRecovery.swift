import ConsensusCore

/// How `FileStorage` found its directory when it opened it.
public struct RecoveryReport: Hashable, Sendable {
    /// The segments replayed, oldest first (paths).
    public var segments: [String] = []
    /// Number of log records replayed.
    public var records = 0
    /// Bytes cut from the end of the last segment as a torn write (0 when the log ended cleanly).
    public var droppedBytes = 0
    /// The segment they were cut from.
    public var tornFile: String?
    /// Leftovers of an interrupted snapshot or compaction that were deleted (paths).
    public var removedFiles: [String] = []
}

/// Opening a `FileStorage` directory: find where the log starts, replay it through
/// `StoredState.apply`, cut a torn tail, delete leftovers, and open the last segment for appending.
/// The rules are documented on `FileStorage`.
struct LogRecovery<Entry: BinaryCodable & Sendable, HardState: BinaryCodable & Sendable> {
    /// What a successful open hands to `FileStorage`.
    struct Opened {
        var state: StoredState<Entry, HardState>
        var report: RecoveryReport
        /// Segments `oldestSegment...activeSequence` exist.
        var oldestSegment: UInt64
        var active: OpenFile
        var activeSequence: UInt64
        var activeSize: Int
    }

    private struct Segment {
        let sequence: UInt64
        let path: String
        let bytes: [UInt8]

        /// A segment written by compaction: it starts with a snapshot record and holds the whole state.
        var isCheckpoint: Bool {
            guard case .intact(let first) = RecordFrame.read(bytes, at: 0) else { return false }
            return first.type == RecordType.snapshot.rawValue
        }
    }

    private let directory: StorageDirectory
    private var state = StoredState<Entry, HardState>()
    private var report = RecoveryReport()

    static func open(_ directory: StorageDirectory) throws(StorageError) -> Opened {
        var recovery = LogRecovery(directory: directory)
        let listing = try directory.list()
        guard !listing.segments.isEmpty else { return try recovery.start(listing) }
        let segments = try recovery.segmentsFromBase(listing.segments)
        var validLength = 0
        for (position, segment) in segments.enumerated() {
            if position > 0 { try recovery.checkStart(of: segment, after: segments[position - 1], length: validLength) }
            validLength = try recovery.replay(segment, isLast: position == segments.count - 1)
        }
        let last = segments[segments.count - 1]
        if validLength < last.bytes.count {
            try directory.fileSystem.truncate(last.path, to: validLength)
            recovery.report.droppedBytes = last.bytes.count - validLength
            recovery.report.tornFile = last.path
        }
        try recovery.removeLeftovers(listing, before: segments[0].sequence)
        let active = try directory.fileSystem.openForAppending(last.path)
        return Opened(state: recovery.state, report: recovery.report, oldestSegment: segments[0].sequence,
                      active: active, activeSequence: last.sequence, activeSize: validLength)
    }

    private init(directory: StorageDirectory) { self.directory = directory }

    /// A directory without a log: a node that has never run. Creates segment 1.
    private mutating func start(_ listing: StorageDirectory.Listing) throws(StorageError) -> Opened {
        try removeLeftovers(listing, before: 1)
        let active = try directory.fileSystem.create(directory.file(StorageDirectory.segmentName(1)))
        try directory.fileSystem.syncDirectory(directory.path)
        return Opened(state: state, report: report, oldestSegment: 1, active: active, activeSequence: 1, activeSize: 0)
    }

    /// The segments to replay, oldest first: from the newest checkpoint, or else from segment 1, to
    /// the last. Older segments are leftovers of a compaction interrupted before it deleted them.
    private func segmentsFromBase(_ sequences: [UInt64]) throws(StorageError) -> [Segment] {
        var segments: [Segment] = []
        for sequence in sequences.reversed() {
            let path = directory.file(StorageDirectory.segmentName(sequence))
            if let newer = segments.last, newer.sequence != sequence + 1 {
                throw .corruptRecord(file: newer.path, offset: 0, reason: "the segment before it, \(StorageDirectory.segmentName(newer.sequence - 1)), is missing")
            }
            segments.append(Segment(sequence: sequence, path: path, bytes: try directory.fileSystem.readAll(path)))
            if segments[segments.count - 1].isCheckpoint { return segments.reversed() }
        }
        let first = segments[segments.count - 1]
        guard first.sequence == 1 else {
            throw .corruptRecord(file: first.path, offset: 0, reason: "the log starts here, but this is neither segment 1 nor a checkpoint: earlier segments are missing")
        }
        return segments.reversed()
    }

    /// A segment after the base begins with the length its predecessor had when rotation closed it:
    /// a shorter predecessor lost writes that had been fsynced, which nothing else would reveal.
    private func checkStart(of segment: Segment, after previous: Segment, length: Int) throws(StorageError) {
        guard case .intact(let first) = RecordFrame.read(segment.bytes, at: 0),
              case .segmentStart(let recorded)? = try? LogRecord<Entry, HardState>(first, in: segment.bytes) else {
            throw .corruptRecord(file: segment.path, offset: 0, reason: "does not begin with a segment start record, though it follows \(previous.path)")
        }
        guard recorded == length else {
            throw .corruptRecord(file: previous.path, offset: length,
                                 reason: "the segment ends here, but \(segment.path) records that it was \(recorded) bytes long when it was closed")
        }
    }

    /// Replays one segment and returns the length of its valid prefix (shorter than the file only
    /// for a torn tail, which only the last segment may have).
    private mutating func replay(_ segment: Segment, isLast: Bool) throws(StorageError) -> Int {
        report.segments.append(segment.path)
        var offset = 0
        // Records of a checkpoint's image still to come: synced before the checkpoint was renamed
        // into place, so never torn.
        var imageRecords = 0
        while offset < segment.bytes.count {
            switch RecordFrame.read(segment.bytes, at: offset) {
            case .damaged(let reason):
                guard imageRecords == 0 else {
                    throw .corruptRecord(file: segment.path, offset: offset, reason: "\(reason), inside the checkpoint's image")
                }
                guard isLast else {
                    throw .corruptRecord(file: segment.path, offset: offset, reason: "\(reason), in a segment that is not the last")
                }
                guard !RecordFrame.intactRecordFollows(segment.bytes, after: offset) else {
                    throw .corruptRecord(file: segment.path, offset: offset, reason: "\(reason), and intact records follow")
                }
                return offset
            case .intact(let record):
                imageRecords = try apply(record, of: segment, at: offset) ?? max(0, imageRecords - 1)
                report.records += 1
                offset = record.end
            }
        }
        guard imageRecords == 0 else {
            throw .corruptRecord(file: segment.path, offset: offset, reason: "the file ends \(imageRecords) records short of the checkpoint's image")
        }
        return offset
    }

    /// Applies one intact record; for a checkpoint's first record, returns how many image records
    /// follow it. The checksum is valid, so any failure here is corruption (or a foreign file),
    /// never a torn write.
    private mutating func apply(_ record: RecordFrame.Intact, of segment: Segment, at offset: Int) throws(StorageError) -> Int? {
        let logged: LogRecord<Entry, HardState>
        do {
            logged = try LogRecord(record, in: segment.bytes)
        } catch {
            let type = RecordType(rawValue: record.type)?.description ?? "type-\(record.type)"
            throw .corruptRecord(file: segment.path, offset: offset, reason: "undecodable \(type) record: \(error)")
        }
        let op: PersistOp<Entry, HardState>
        var imageRecords: Int?
        switch logged {
        case .op(let logged):
            op = logged
        case .snapshotTaken(let lastIndex, let lastTerm, let image):
            guard offset == 0 else { throw .corruptRecord(file: segment.path, offset: offset, reason: "a checkpoint's first record in the middle of a segment") }
            op = .snapshot(try loadSnapshot(lastIndex: lastIndex, lastTerm: lastTerm, recordedIn: segment, at: offset))
            imageRecords = image
        case .segmentStart:
            // Checked before the replay (`checkStart`); it changes no state.
            guard offset == 0 else { throw .corruptRecord(file: segment.path, offset: offset, reason: "a segment start record in the middle of a segment") }
            return nil
        }
        do {
            try state.apply(op)
        } catch {
            throw .corruptRecord(file: segment.path, offset: offset, reason: "record contradicts the log before it: \(error)")
        }
        return imageRecords
    }

    private func loadSnapshot(lastIndex: LogIndex, lastTerm: UInt64, recordedIn segment: Segment, at offset: Int) throws(StorageError) -> Snapshot {
        guard lastIndex >= 0 else {
            throw .corruptRecord(file: segment.path, offset: offset, reason: "snapshot record at negative index \(lastIndex)")
        }
        let path = directory.file(StorageDirectory.snapshotName(lastIndex))
        let bytes: [UInt8]
        do {
            bytes = try directory.fileSystem.readAll(path)
        } catch {
            guard error.isMissingFile else { throw error }
            throw .corruptRecord(file: segment.path, offset: offset, reason: "the snapshot recorded here, \(path), is missing")
        }
        let snapshot = try SnapshotFile.decode(bytes, file: path)
        guard snapshot.lastIndex == lastIndex, snapshot.lastTerm == lastTerm else {
            throw .corruptRecord(file: path, offset: 0, reason: "holds the snapshot at index \(snapshot.lastIndex) term \(snapshot.lastTerm), but \(segment.path) records index \(lastIndex) term \(lastTerm)")
        }
        return snapshot
    }

    /// Deletes temporary files, segments older than the replayed ones and snapshot files the state
    /// does not use. Recovery never depends on these deletions being durable.
    private mutating func removeLeftovers(_ listing: StorageDirectory.Listing, before base: UInt64) throws(StorageError) {
        let inUse = state.snapshot?.lastIndex
        let names = listing.temporaries
            + listing.segments.filter { $0 < base }.map(StorageDirectory.segmentName)
            + listing.snapshots.filter { $0 != inUse }.map(StorageDirectory.snapshotName)
        for name in names {
            let path = directory.file(name)
            try directory.fileSystem.remove(path)
            report.removedFiles.append(path)
        }
    }
}
