/// One file of a `SimulatedFileSystem` (an inode: names point at it): what reads see and what the
/// medium holds, which differ until a sync, and may differ after one when the disk misbehaved.
struct SimulatedFile {
    /// What reads return: the medium overlaid with the writes since the last sync (the page cache).
    var cached: [UInt8] = []
    /// What the medium holds: what a crash leaves.
    var medium: [UInt8] = []
    /// The cache may differ from the medium from this offset on because of writes or truncations
    /// not yet synced; nil when the operating system believes the medium is up to date.
    var dirtyFrom: Int?

    mutating func append(_ bytes: [UInt8]) {
        markDirty(from: cached.count)
        cached += bytes
    }

    mutating func resize(to length: Int) {
        markDirty(from: min(length, cached.count))
        if length < cached.count { cached.removeSubrange(length...) } else { cached += repeatElement(0, count: length - cached.count) }
    }

    private mutating func markDirty(from offset: Int) { dirtyFrom = min(dirtyFrom ?? offset, offset) }

    /// The unsynced bytes, and the offset they start at, when the cache only added to or changed
    /// the end of the file (nil when only a truncation is pending).
    var unsyncedTail: (offset: Int, bytes: ArraySlice<UInt8>)? {
        guard let dirtyFrom, dirtyFrom < cached.count else { return nil }
        return (dirtyFrom, cached[dirtyFrom...])
    }

    /// `bytes` land on the medium at `offset` of a file now `length` bytes long (longer if the
    /// bytes reach past it): the medium keeps its old content elsewhere, zeros where it had none.
    mutating func land<Bytes: Collection<UInt8>>(_ bytes: Bytes, at offset: Int, length: Int) {
        let end = max(length, offset + bytes.count)
        if medium.count > end { medium.removeSubrange(end...) } else { medium += repeatElement(0, count: end - medium.count) }
        medium.replaceSubrange(offset..<offset + bytes.count, with: bytes)
    }

    /// The sync the operating system believes happened: nothing is dirty any more.
    mutating func markClean() { dirtyFrom = nil }

    /// A crash: the cache is gone, reads see the medium.
    mutating func dropCache() {
        cached = medium
        dirtyFrom = nil
    }
}
