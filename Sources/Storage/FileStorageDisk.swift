import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX file operations `FileStorage` needs, each failure reported as `StorageError.io`
/// naming the path and the operation. Plain system calls rather than `FileHandle` because
/// durability needs exactly these: `write`, `fsync` of files and directories, `rename`, `ftruncate`.
enum Disk {
    /// An open file descriptor and the path it was opened at.
    struct File {
        let descriptor: Int32
        var path: String

        /// Writes all of `bytes`, retrying short writes and interruptions.
        func writeAll(_ bytes: [UInt8]) throws(StorageError) {
            var written = 0
            while written < bytes.count {
                let result = bytes.withUnsafeBytes { buffer in
                    write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                }
                if result < 0 {
                    guard errno == EINTR else { throw .io(path: path, operation: "write", errno: errno) }
                } else {
                    written += result
                }
            }
        }

        func sync() throws(StorageError) {
            guard fsync(descriptor) == 0 else { throw .io(path: path, operation: "fsync", errno: errno) }
        }

        /// Closes the descriptor; errors are moot (nothing is written after the last `sync`).
        func release() { _ = close(descriptor) }
    }

    static func openFile(_ path: String, flags: Int32, operation: String) throws(StorageError) -> File {
        let descriptor = open(path, flags | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io(path: path, operation: operation, errno: errno) }
        return File(descriptor: descriptor, path: path)
    }

    /// Creates `path`, which must not exist, for appending.
    static func create(_ path: String) throws(StorageError) -> File {
        try openFile(path, flags: O_WRONLY | O_CREAT | O_EXCL | O_APPEND, operation: "create")
    }

    /// Opens the existing `path` for appending.
    static func openForAppending(_ path: String) throws(StorageError) -> File {
        try openFile(path, flags: O_WRONLY | O_APPEND, operation: "open")
    }

    /// Whether `error` says the file does not exist.
    static func isMissingFile(_ error: StorageError) -> Bool {
        if case .io(_, _, let code) = error { code == ENOENT } else { false }
    }

    /// Creates or empties `path` for writing.
    static func overwrite(_ path: String) throws(StorageError) -> File {
        try openFile(path, flags: O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, operation: "create")
    }

    static func readAll(_ path: String) throws(StorageError) -> [UInt8] {
        let file = try openFile(path, flags: O_RDONLY, operation: "open")
        defer { file.release() }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(file.descriptor, $0.baseAddress!, $0.count) }
            if count < 0 {
                guard errno == EINTR else { throw .io(path: path, operation: "read", errno: errno) }
            } else if count == 0 {
                return bytes
            } else {
                bytes.append(contentsOf: chunk[0..<count])
            }
        }
    }

    /// Makes the directory's entries (created, renamed files) durable: fsync of a file does not.
    static func syncDirectory(_ path: String) throws(StorageError) {
        let directory = try openFile(path, flags: O_RDONLY | O_DIRECTORY, operation: "open directory")
        defer { directory.release() }
        try directory.sync()
    }

    static func move(_ source: String, to destination: String) throws(StorageError) {
        guard rename(source, destination) == 0 else { throw .io(path: source, operation: "rename to \(destination)", errno: errno) }
    }

    static func remove(_ path: String) throws(StorageError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw .io(path: path, operation: "unlink", errno: errno) }
    }

    /// Cuts `path` to `length` bytes and makes that durable.
    static func truncate(_ path: String, to length: Int) throws(StorageError) {
        let file = try openFile(path, flags: O_WRONLY, operation: "open")
        defer { file.release() }
        guard ftruncate(file.descriptor, off_t(length)) == 0 else { throw .io(path: path, operation: "ftruncate", errno: errno) }
        try file.sync()
    }

    /// Holds an exclusive advisory lock on the directory until `close`, so that two processes never
    /// append to one log.
    static func lock(_ path: String) throws(StorageError) -> File {
        let directory = try openFile(path, flags: O_RDONLY | O_DIRECTORY, operation: "open directory")
        guard flock(directory.descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let error = errno
            directory.release()
            throw .io(path: path, operation: "lock (is another FileStorage using this directory?)", errno: error)
        }
        return directory
    }

    static func createDirectory(_ path: String) throws(StorageError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .io(path: path, operation: "create directory", errno: posixCode(of: error))
        }
    }

    /// File names in `path`, sorted (so nothing depends on the directory's own order).
    static func list(_ path: String) throws(StorageError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        } catch {
            throw .io(path: path, operation: "list directory", errno: posixCode(of: error))
        }
    }

    /// The errno behind a Foundation error, or EIO when it does not say.
    private static func posixCode(of error: any Error) -> Int32 {
        let error = error as NSError
        if error.domain == NSPOSIXErrorDomain { return Int32(error.code) }
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return Int32(underlying.code)
        }
        return EIO
    }
}
