import ConsensusCore

/// The files in one node's storage directory:
///
///     wal-<sequence>.log        log segments, numbered from 1 without gaps (16 hex digits)
///     snapshot-<index>.snap     the snapshot covering the log up to <index> (16 hex digits)
///     <either name>.tmp         a file being written; it counts only once renamed, so a leftover
///                               is debris of a crash and is deleted on open
///
/// Other files are left alone.
struct StorageDirectory {
    let path: String
    let fileSystem: any FileSystem

    static let temporarySuffix = ".tmp"

    func file(_ name: String) -> String { path + "/" + name }

    static func segmentName(_ sequence: UInt64) -> String { "wal-" + hex16(sequence) + ".log" }

    static func snapshotName(_ index: LogIndex) -> String { "snapshot-" + hex16(UInt64(index)) + ".snap" }

    struct Listing {
        /// Segment sequence numbers, ascending.
        var segments: [UInt64] = []
        /// Snapshot indexes, ascending.
        var snapshots: [LogIndex] = []
        /// Names of leftover temporary files.
        var temporaries: [String] = []
    }

    func list() throws(StorageError) -> Listing {
        var listing = Listing()
        for name in try fileSystem.list(path) {
            if let sequence = Self.number(in: name, prefix: "wal-", suffix: ".log") {
                listing.segments.append(sequence)
            } else if let index = Self.number(in: name, prefix: "snapshot-", suffix: ".snap") {
                listing.snapshots.append(LogIndex(index))
            } else if name.hasSuffix(Self.temporarySuffix), name.hasPrefix("wal-") || name.hasPrefix("snapshot-") {
                listing.temporaries.append(name)
            }
        }
        listing.segments.sort()
        listing.snapshots.sort()
        return listing
    }

    /// The number in a name written by `segmentName` or `snapshotName`; nil for any other name.
    private static func number(in name: String, prefix: String, suffix: String) -> UInt64? {
        guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
        let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
        guard digits.count == 16, let value = UInt64(digits, radix: 16), value <= UInt64(Int.max) else { return nil }
        return value
    }

    private static func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
