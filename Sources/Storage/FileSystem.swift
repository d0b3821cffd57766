#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file operations `FileStorage` needs, and nothing more: a small surface so that the same
/// write-ahead log runs over the real disk (`PosixFileSystem`) and over an in-memory disk that
/// crashes and fails on demand (`SimulatedFileSystem`).
///
/// Durability is the caller's business and follows POSIX: written bytes are durable once the file
/// is `sync`ed; a created, renamed or removed name is durable once its directory is synced. Every
/// failure is `StorageError.io` naming the path and the operation.
public protocol FileSystem: AnyObject {
    /// Creates `path` and any missing parents; an existing directory is fine.
    func createDirectory(_ path: String) throws(StorageError)
    /// Holds an exclusive lock on the directory until the returned file is closed, so that two
    /// storages never append to one log.
    func lock(_ directory: String) throws(StorageError) -> OpenFile
    /// Creates `path`, which must not exist, for appending.
    func create(_ path: String) throws(StorageError) -> OpenFile
    /// Opens the existing `path` for appending.
    func openForAppending(_ path: String) throws(StorageError) -> OpenFile
    /// Creates or empties `path` for appending.
    func overwrite(_ path: String) throws(StorageError) -> OpenFile
    /// Appends all of `bytes`.
    func write(_ bytes: [UInt8], to file: OpenFile) throws(StorageError)
    /// Makes the file's written bytes durable (fsync). Its name is not: see `syncDirectory`.
    func sync(_ file: OpenFile) throws(StorageError)
    /// Releases the file (and a lock it holds). Errors are moot: nothing is written after the
    /// last `sync`.
    func close(_ file: OpenFile)
    /// Makes the directory's entries (created, renamed, removed files) durable.
    func syncDirectory(_ path: String) throws(StorageError)
    func rename(_ source: String, to destination: String) throws(StorageError)
    /// Removes `path`; a missing file is not an error.
    func remove(_ path: String) throws(StorageError)
    /// Cuts `path` to `length` bytes and makes that durable.
    func truncate(_ path: String, to length: Int) throws(StorageError)
    /// File names in `directory`, sorted (so nothing depends on the directory's own order).
    func list(_ directory: String) throws(StorageError) -> [String]
    func readAll(_ path: String) throws(StorageError) -> [UInt8]
}

/// A file a `FileSystem` opened: the number it knows it by (a descriptor, or a simulated handle)
/// and the path it was opened at, for error messages.
public struct OpenFile: Hashable, Sendable {
    public let handle: Int32
    public var path: String

    public init(handle: Int32, path: String) {
        self.handle = handle
        self.path = path
    }
}

extension StorageError {
    /// Whether the error says the file does not exist (both file systems report ENOENT).
    var isMissingFile: Bool {
        if case .io(_, _, let code) = self { code == ENOENT } else { false }
    }
}
