import ConsensusCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file system in memory for the simulator: deterministic, crashable, and as unreliable as its
/// `DiskFaults` say, so that `FileStorage`'s recovery (torn tails, checksums, snapshot files,
/// renames) runs under simulated crashes.
///
/// The model is POSIX's with a page cache:
/// - a file's written bytes are durable only once it is synced; until then a crash loses them
///   (or, with `partialWrite` and `tornWrite`, part of them reaches the medium, perhaps followed by
///   zeros or garbage);
/// - a created, renamed or removed name is durable only once its directory is synced; a crash puts
///   back the names the medium has. Directories themselves are durable as soon as they exist;
/// - reads see the cache, which a crash drops: faults on the medium (`bitFlip`, `lostWrite`,
///   `misdirectedWrite`) are latent until then, as on a real machine, where recovery after a reboot
///   is the first to read them.
///
/// A class, because the medium outlives the storage using it: a simulator keeps one per node,
/// calls `crash()` when the node loses power and opens a new `FileStorage` on the same object.
/// Time is the driver's: each sync adds its latency (`syncLatency`, times `slowSyncFactor` when
/// slow) to a total the driver collects with `takeSyncLatency()` and charges to the node's disk.
package final class SimulatedFileSystem: FileSystem {
    let faults: DiskFaults
    /// What one sync (of a file or a directory) takes when it is not slow.
    let syncLatency: TimeSpan
    /// Every fault injected so far, by kind.
    package internal(set) var injected = DiskFaultCounts()

    var random: DeterministicRandom
    /// Files by inode number (nil once no name and no handle refers to one).
    var files: [SimulatedFile?] = []
    /// Path → inode as reads see it, and as the medium has it (what a crash puts back).
    var names: [String: Int] = [:]
    var durableNames: [String: Int] = [:]
    private var directories: Set<String> = [""]
    var handles: [Int32: Handle] = [:]
    var lockedDirectories: [String: Int32] = [:]
    private var nextHandle: Int32 = 3
    private var pendingLatency = TimeSpan.zero
    /// Faults asked for by `inject`, for the next syncs that write bytes, oldest first.
    var armed: [DiskFault] = []

    enum Handle {
        case file(inode: Int)
        case lock(directory: String)
    }

    /// `seed` draws every fault; the same seed and the same calls give the same bytes.
    package init(seed: UInt64, faults: DiskFaults = DiskFaults(), syncLatency: TimeSpan = .microseconds(100)) {
        self.faults = faults
        self.syncLatency = syncLatency
        random = DeterministicRandom(seed: seed, label: "disk")
    }

    /// The time the syncs since the last call took, together; a driver charges it to the node.
    package func takeSyncLatency() -> TimeSpan {
        defer { pendingLatency = .zero }
        return pendingLatency
    }

    // MARK: FileSystem

    package func createDirectory(_ path: String) throws(StorageError) {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        for end in 1...components.count {
            let prefix = components[..<end].joined(separator: "/")
            if names[prefix] != nil { throw .io(path: prefix, operation: "create directory", errno: ENOTDIR) }
            directories.insert(prefix)
        }
    }

    package func lock(_ directory: String) throws(StorageError) -> OpenFile {
        guard directories.contains(directory) else { throw .io(path: directory, operation: "open directory", errno: ENOENT) }
        guard lockedDirectories[directory] == nil else {
            throw .io(path: directory, operation: "lock (is another FileStorage using this directory?)", errno: EWOULDBLOCK)
        }
        let file = open(.lock(directory: directory), path: directory)
        lockedDirectories[directory] = file.handle
        return file
    }

    package func create(_ path: String) throws(StorageError) -> OpenFile {
        try requireParent(of: path, operation: "create")
        guard names[path] == nil else { throw .io(path: path, operation: "create", errno: EEXIST) }
        return open(.file(inode: newFile(at: path)), path: path)
    }

    package func openForAppending(_ path: String) throws(StorageError) -> OpenFile {
        open(.file(inode: try inode(at: path, operation: "open")), path: path)
    }

    package func overwrite(_ path: String) throws(StorageError) -> OpenFile {
        try requireParent(of: path, operation: "create")
        guard let inode = names[path] else { return open(.file(inode: newFile(at: path)), path: path) }
        files[inode]!.resize(to: 0)
        return open(.file(inode: inode), path: path)
    }

    package func write(_ bytes: [UInt8], to file: OpenFile) throws(StorageError) {
        files[try inode(of: file, operation: "write")]!.append(bytes)
    }

    package func sync(_ file: OpenFile) throws(StorageError) {
        let inode = try inode(of: file, operation: "fsync")
        chargeSync()
        persist(inode)
    }

    package func close(_ file: OpenFile) {
        switch handles.removeValue(forKey: file.handle) {
        case .file(let inode): collectIfUnreferenced(inode)
        case .lock(let directory): lockedDirectories[directory] = nil
        case nil: break // a handle a crash already dropped
        }
    }

    package func syncDirectory(_ path: String) throws(StorageError) {
        guard directories.contains(path) else { throw .io(path: path, operation: "open directory", errno: ENOENT) }
        chargeSync()
        let forgotten = durableNames.filter { Self.parent(of: $0.key) == path }
        for name in forgotten.keys { durableNames[name] = nil }
        for (name, inode) in names where Self.parent(of: name) == path { durableNames[name] = inode }
        for inode in forgotten.values { collectIfUnreferenced(inode) }
    }

    package func rename(_ source: String, to destination: String) throws(StorageError) {
        let inode = try inode(at: source, operation: "rename to \(destination)")
        try requireParent(of: destination, operation: "rename to \(destination)")
        let replaced = names[destination]
        names[source] = nil
        names[destination] = inode
        if let replaced, replaced != inode { collectIfUnreferenced(replaced) }
    }

    package func remove(_ path: String) throws(StorageError) {
        guard let inode = names.removeValue(forKey: path) else { return }
        collectIfUnreferenced(inode)
    }

    package func truncate(_ path: String, to length: Int) throws(StorageError) {
        let inode = try inode(at: path, operation: "open")
        files[inode]!.resize(to: length)
        chargeSync()
        persist(inode)
    }

    /// Files only (subdirectories are not listed).
    package func list(_ directory: String) throws(StorageError) -> [String] {
        guard directories.contains(directory) else { throw .io(path: directory, operation: "list directory", errno: ENOENT) }
        return names.keys.filter { Self.parent(of: $0) == directory }.map { String($0.dropFirst(directory.count + 1)) }.sorted()
    }

    package func readAll(_ path: String) throws(StorageError) -> [UInt8] {
        files[try inode(at: path, operation: "open")]!.cached
    }

    // MARK: Names and handles

    private func newFile(at path: String) -> Int {
        files.append(SimulatedFile())
        names[path] = files.count - 1
        return files.count - 1
    }

    private func open(_ handle: Handle, path: String) -> OpenFile {
        defer { nextHandle += 1 }
        handles[nextHandle] = handle
        return OpenFile(handle: nextHandle, path: path)
    }

    private func inode(at path: String, operation: String) throws(StorageError) -> Int {
        guard let inode = names[path] else { throw .io(path: path, operation: operation, errno: ENOENT) }
        return inode
    }

    private func inode(of file: OpenFile, operation: String) throws(StorageError) -> Int {
        guard case .file(let inode) = handles[file.handle] else { throw .io(path: file.path, operation: operation, errno: EBADF) }
        return inode
    }

    private func requireParent(of path: String, operation: String) throws(StorageError) {
        guard directories.contains(Self.parent(of: path)) else { throw .io(path: path, operation: operation, errno: ENOENT) }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return String(path[..<slash])
    }

    /// Frees a file no name (current or durable) and no handle refers to any more.
    func collectIfUnreferenced(_ inode: Int) {
        guard files[inode] != nil, !names.values.contains(inode), !durableNames.values.contains(inode),
              !handles.values.contains(where: { if case .file(inode) = $0 { true } else { false } }) else { return }
        files[inode] = nil
    }

    private func chargeSync() {
        var latency = syncLatency
        if random.chance(faults.slowSync) {
            latency = latency.scaled(by: faults.slowSyncFactor)
            injected.slowSyncs += 1
        }
        pendingLatency = pendingLatency + latency
    }
}
