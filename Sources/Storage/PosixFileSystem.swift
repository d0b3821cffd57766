import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real disk: each operation is the POSIX call durability needs (`write`, `fsync` of files and
/// directories, `rename`, `ftruncate`, `flock`), each failure `StorageError.io` naming the path and
/// the operation. Plain system calls rather than `FileHandle` because durability needs exactly these.
/// Stateless: an `OpenFile`'s handle is the file descriptor.
public final class PosixFileSystem: FileSystem {
    public init() {}

    public func createDirectory(_ path: String) throws(StorageError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw .io(path: path, operation: "create directory", errno: posixCode(of: error))
        }
    }

    /// A lock held elsewhere is retried for half a second before it is refused: a process that
    /// another thread is spawning holds a copy of every descriptor of ours, among them a lock we
    /// have just released, until its `exec` closes them (`O_CLOEXEC`), and `flock` belongs to the
    /// open file, so a storage reopened in that instant would find its own old lock still held.
    public func lock(_ directory: String) throws(StorageError) -> OpenFile {
        let file = try open(directory, flags: O_RDONLY | O_DIRECTORY, operation: "open directory")
        var attempts = 1
        while flock(file.handle, LOCK_EX | LOCK_NB) != 0 {
            let error = errno
            guard error == EWOULDBLOCK || error == EINTR, attempts < Self.lockAttempts else {
                close(file)
                throw .io(path: directory, operation: "lock (is another FileStorage using this directory?)", errno: error)
            }
            usleep(Self.lockRetryMicroseconds)
            attempts += 1
        }
        return file
    }

    /// 100 attempts 5 ms apart: far longer than a spawn's window between `fork` and `exec`, short
    /// enough that a directory truly in use is refused at once to a person.
    static let lockAttempts = 100
    static let lockRetryMicroseconds: UInt32 = 5_000

    public func create(_ path: String) throws(StorageError) -> OpenFile {
        try open(path, flags: O_WRONLY | O_CREAT | O_EXCL | O_APPEND, operation: "create")
    }

    public func openForAppending(_ path: String) throws(StorageError) -> OpenFile {
        try open(path, flags: O_WRONLY | O_APPEND, operation: "open")
    }

    public func overwrite(_ path: String) throws(StorageError) -> OpenFile {
        try open(path, flags: O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, operation: "create")
    }

    /// Retries short writes and interruptions.
    public func write(_ bytes: [UInt8], to file: OpenFile) throws(StorageError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                systemWrite(file.handle, buffer.baseAddress! + written, buffer.count - written)
            }
            if result < 0 {
                guard errno == EINTR else { throw .io(path: file.path, operation: "write", errno: errno) }
            } else {
                written += result
            }
        }
    }

    public func sync(_ file: OpenFile) throws(StorageError) {
        guard fsync(file.handle) == 0 else { throw .io(path: file.path, operation: "fsync", errno: errno) }
    }

    public func close(_ file: OpenFile) { systemClose(file.handle) }

    public func syncDirectory(_ path: String) throws(StorageError) {
        let directory = try open(path, flags: O_RDONLY | O_DIRECTORY, operation: "open directory")
        defer { close(directory) }
        try sync(directory)
    }

    public func rename(_ source: String, to destination: String) throws(StorageError) {
        guard systemRename(source, destination) == 0 else { throw .io(path: source, operation: "rename to \(destination)", errno: errno) }
    }

    public func remove(_ path: String) throws(StorageError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw .io(path: path, operation: "unlink", errno: errno) }
    }

    public func truncate(_ path: String, to length: Int) throws(StorageError) {
        let file = try open(path, flags: O_WRONLY, operation: "open")
        defer { close(file) }
        guard ftruncate(file.handle, off_t(length)) == 0 else { throw .io(path: path, operation: "ftruncate", errno: errno) }
        try sync(file)
    }

    public func list(_ directory: String) throws(StorageError) -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        } catch {
            throw .io(path: directory, operation: "list directory", errno: posixCode(of: error))
        }
    }

    public func readAll(_ path: String) throws(StorageError) -> [UInt8] {
        let file = try open(path, flags: O_RDONLY, operation: "open")
        defer { close(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(file.handle, $0.baseAddress!, $0.count) }
            if count < 0 {
                guard errno == EINTR else { throw .io(path: path, operation: "read", errno: errno) }
            } else if count == 0 {
                return bytes
            } else {
                bytes.append(contentsOf: chunk[0..<count])
            }
        }
    }

    private func open(_ path: String, flags: Int32, operation: String) throws(StorageError) -> OpenFile {
        let descriptor = systemOpen(path, flags | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io(path: path, operation: operation, errno: errno) }
        return OpenFile(handle: descriptor, path: path)
    }

    /// The errno behind a Foundation error, or EIO when it does not say.
    private func posixCode(of error: any Error) -> Int32 {
        let error = error as NSError
        if error.domain == NSPOSIXErrorDomain { return Int32(error.code) }
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return Int32(underlying.code)
        }
        return EIO
    }
}

// The C calls whose names the methods above shadow.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(descriptor, buffer, count) }
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int { read(descriptor, buffer, count) }
private func systemRename(_ source: String, _ destination: String) -> Int32 { rename(source, destination) }
private func systemClose(_ descriptor: Int32) { _ = close(descriptor) }
