import ConsensusCore

/// A node's durable state: log, hard state and snapshot, behind one interface with two
/// implementations (`MemoryStorage` for the simulator, `FileStorage` for real disks) and one shared
/// test suite.
///
/// Crash semantics: operations applied but not yet `sync`ed may be lost by a crash; everything
/// synced survives. `recover()` returns what a restarted node would find.
public protocol NodeStorage {
    associatedtype Entry: BinaryCodable & Sendable
    associatedtype HardState: BinaryCodable & Sendable & Equatable

    /// Records `op`. An operation that contradicts the stored log (`StoredState.apply` decides) is
    /// rejected with `invalidOperation` and changes nothing.
    mutating func apply(_ op: PersistOp<Entry, HardState>) throws(StorageError)
    /// Makes every applied operation durable (fsync for files).
    mutating func sync() throws(StorageError)
    /// The state a node starting now would find.
    func recover() throws(StorageError) -> RecoveredState<Entry, HardState>
}

public enum StorageError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A record in the middle of a log failed its checksum or did not decode: the log is damaged
    /// and nothing after it can be trusted. Never skipped silently.
    case corruptRecord(file: String, offset: Int, reason: String)
    /// An operation that contradicts the stored log (e.g. appending beyond its end).
    case invalidOperation(String)
    /// The operating system refused a file operation.
    case io(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .corruptRecord(let file, let offset, let reason): "corrupt log record in \(file) at offset \(offset): \(reason)"
        case .invalidOperation(let reason): "invalid storage operation: \(reason)"
        case .io(let path, let operation, let errno): "\(operation) failed for \(path) (errno \(errno))"
        }
    }
}
