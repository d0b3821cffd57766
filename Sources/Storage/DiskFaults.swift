/// How often a `SimulatedFileSystem` misbehaves, as TigerBeetle's storage simulator does: every
/// fault is drawn from the file system's seed, so a failing seed replays exactly. All rates are
/// probabilities (0–1) and default to 0, a perfect disk that loses only unsynced bytes at a crash.
public struct DiskFaults: Hashable, Sendable {
    /// At a crash, for each file with unsynced bytes: a prefix of them reached the medium after all
    /// (a clean cut at any byte, which may split a record).
    public var partialWrite: Double
    /// At a crash, for each file with unsynced bytes: the write was torn: a prefix of them reached
    /// the medium followed by zeros or garbage where the rest of the sector should be.
    public var tornWrite: Double
    /// For each sync that writes bytes: one bit of them flips on the medium. Latent: reads see the
    /// flip only once the page cache is gone (after a crash), as on a real disk.
    public var bitFlip: Double
    /// For each sync that writes bytes: the sync reports success, but the bytes never reach the
    /// medium (the file keeps its old content there, or a hole of zeros once later bytes land).
    public var lostWrite: Double
    /// For each sync that writes bytes: the bytes land at a wrong offset of the file, and the place
    /// they were meant for keeps its old content.
    public var misdirectedWrite: Double
    /// For each sync: it takes `slowSyncFactor` times the normal sync latency.
    public var slowSync: Double
    public var slowSyncFactor: Double

    public init(partialWrite: Double = 0, tornWrite: Double = 0, bitFlip: Double = 0, lostWrite: Double = 0,
                misdirectedWrite: Double = 0, slowSync: Double = 0, slowSyncFactor: Double = 100) {
        self.partialWrite = partialWrite
        self.tornWrite = tornWrite
        self.bitFlip = bitFlip
        self.lostWrite = lostWrite
        self.misdirectedWrite = misdirectedWrite
        self.slowSync = slowSync
        self.slowSyncFactor = slowSyncFactor
    }
}

/// One fault a driver asks a `SimulatedFileSystem` for now (the nemesis `disk` action), rather
/// than at a rate.
public enum DiskFault: String, CaseIterable, Hashable, Sendable {
    /// A bit of a synced byte flips on the medium now; recovery finds it after the next crash.
    case bitFlip = "bit-flip"
    /// The next sync that writes bytes reports success but loses them.
    case lostWrite = "lost-write"
    /// The next sync that writes bytes puts them at a wrong offset.
    case misdirectedWrite = "misdirected-write"
}

/// How many faults a `SimulatedFileSystem` injected, by kind, so that a test or a report can say
/// what the disk did.
public struct DiskFaultCounts: Hashable, Sendable, CustomStringConvertible {
    public var partialWrites = 0
    public var tornWrites = 0
    public var bitFlips = 0
    public var lostWrites = 0
    public var misdirectedWrites = 0
    public var slowSyncs = 0

    package init() {}

    private static var kinds: [(name: String, count: WritableKeyPath<DiskFaultCounts, Int>)] {
        [("partial", \.partialWrites), ("torn", \.tornWrites), ("bit-flip", \.bitFlips), ("lost", \.lostWrites),
         ("misdirected", \.misdirectedWrites), ("slow-sync", \.slowSyncs)]
    }

    public var total: Int { Self.kinds.reduce(0) { $0 + self[keyPath: $1.count] } }

    /// Only the faults that can damage synced data (bit flips, lost and misdirected writes); torn
    /// and partial writes hit only what was never synced, and a slow sync damages nothing.
    package var damage: DiskFaultCounts {
        var counts = DiskFaultCounts()
        counts.bitFlips = bitFlips
        counts.lostWrites = lostWrites
        counts.misdirectedWrites = misdirectedWrites
        return counts
    }

    /// The faults injected between two readings (`later - earlier`), e.g. since the last crash.
    package static func - (later: DiskFaultCounts, earlier: DiskFaultCounts) -> DiskFaultCounts {
        combine(later, earlier, -)
    }

    package static func + (left: DiskFaultCounts, right: DiskFaultCounts) -> DiskFaultCounts {
        combine(left, right, +)
    }

    private static func combine(_ left: DiskFaultCounts, _ right: DiskFaultCounts, _ operation: (Int, Int) -> Int) -> DiskFaultCounts {
        var result = left
        for kind in kinds { result[keyPath: kind.count] = operation(left[keyPath: kind.count], right[keyPath: kind.count]) }
        return result
    }

    /// `torn=2 lost=1`: the kinds injected at least once; empty when none was.
    public var description: String {
        Self.kinds.filter { self[keyPath: $0.count] > 0 }.map { "\($0.name)=\(self[keyPath: $0.count])" }.joined(separator: " ")
    }
}
