import ConsensusCore
import Storage
import Testing

/// The simulated disk's model, fault by fault: what survives a crash, what each fault does to the
/// medium, and that one seed gives the same bytes.
@Suite struct SimulatedFileSystemTests {
    static let directory = "/node"
    static let a: [UInt8] = Array(repeating: 0xAA, count: 40), b: [UInt8] = Array(repeating: 0xBB, count: 40)

    /// A file system with `/node/f` holding `a`, synced with its name; `b` written after, unsynced.
    private func disk(_ faults: DiskFaults = DiskFaults(), seed: UInt64 = 1) throws -> (SimulatedFileSystem, OpenFile) {
        let fileSystem = SimulatedFileSystem(seed: seed, faults: faults)
        try fileSystem.createDirectory(Self.directory)
        let file = try fileSystem.create(Self.directory + "/f")
        try fileSystem.write(Self.a, to: file)
        try fileSystem.sync(file)
        try fileSystem.syncDirectory(Self.directory)
        try fileSystem.write(Self.b, to: file)
        return (fileSystem, file)
    }

    private func read(_ fileSystem: SimulatedFileSystem, _ name: String = "f") throws -> [UInt8] {
        try fileSystem.readAll(Self.directory + "/" + name)
    }

    // MARK: A perfect disk

    @Test func aCrashKeepsSyncedBytesAndLosesTheRest() throws {
        let (fileSystem, _) = try disk()
        #expect(try read(fileSystem) == Self.a + Self.b, "reads see the cache")
        fileSystem.crash()
        #expect(try read(fileSystem) == Self.a)
        #expect(fileSystem.injected.total == 0)
    }

    @Test func namesAreDurableOnlyOnceTheDirectoryIsSynced() throws {
        let (fileSystem, file) = try disk()
        try fileSystem.sync(file)
        let other = try fileSystem.create(Self.directory + "/g")
        try fileSystem.sync(other)
        try fileSystem.rename(Self.directory + "/f", to: Self.directory + "/h")
        #expect(try fileSystem.list(Self.directory) == ["g", "h"])
        fileSystem.crash()
        #expect(try fileSystem.list(Self.directory) == ["f"], "the create and the rename were not durable")
        #expect(try read(fileSystem) == Self.a + Self.b, "the file's bytes were")
        try fileSystem.remove(Self.directory + "/f")
        fileSystem.crash()
        #expect(try fileSystem.list(Self.directory) == ["f"], "nor was the unlink")
        try fileSystem.remove(Self.directory + "/f")
        try fileSystem.syncDirectory(Self.directory)
        fileSystem.crash()
        #expect(try fileSystem.list(Self.directory).isEmpty)
    }

    @Test func locksAndHandlesDoNotSurviveACrash() throws {
        let (fileSystem, file) = try disk()
        _ = try fileSystem.lock(Self.directory)
        let refused = #expect(throws: StorageError.self) { try fileSystem.lock(Self.directory) }
        guard case .io(let path, let operation, _) = refused else { return }
        #expect(path == Self.directory && operation.contains("lock"))
        fileSystem.crash()
        _ = try fileSystem.lock(Self.directory)
        let stale = #expect(throws: StorageError.self) { try fileSystem.write([1], to: file) }
        guard case .io(Self.directory + "/f", "write", _) = stale else {
            Issue.record("expected an io error naming the file and the write, got \(String(describing: stale))")
            return
        }
        fileSystem.close(file)
    }

    @Test func missingFilesAreNamedAsPosixWouldNameThem() throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        let missing = #expect(throws: StorageError.self) { try fileSystem.readAll("/node/f") }
        guard case .io("/node/f", "open", _) = missing else {
            Issue.record("got \(String(describing: missing))")
            return
        }
        #expect(throws: StorageError.self) { try fileSystem.create("/node/f") }
        try fileSystem.createDirectory("/node")
        _ = try fileSystem.create("/node/f")
        #expect(throws: StorageError.self) { try fileSystem.create("/node/f") }
        try fileSystem.remove("/node/missing")
    }

    @Test func everySyncCostsItsLatencyAndSlowOnesMore() throws {
        let fileSystem = SimulatedFileSystem(seed: 1, faults: DiskFaults(slowSync: 1, slowSyncFactor: 10), syncLatency: .microseconds(100))
        try fileSystem.createDirectory(Self.directory)
        let file = try fileSystem.create(Self.directory + "/f")
        try fileSystem.sync(file)
        try fileSystem.syncDirectory(Self.directory)
        #expect(fileSystem.takeSyncLatency() == .milliseconds(2))
        #expect(fileSystem.takeSyncLatency() == .zero, "taken once")
        #expect(fileSystem.injected.slowSyncs == 2)
        let normal = SimulatedFileSystem(seed: 1, syncLatency: .microseconds(100))
        try normal.createDirectory(Self.directory)
        try normal.syncDirectory(Self.directory)
        #expect(normal.takeSyncLatency() == .microseconds(100))
    }

    // MARK: Faults at a crash

    @Test func partialWriteKeepsAPrefixOfTheUnsyncedBytes() throws {
        let (fileSystem, _) = try disk(DiskFaults(partialWrite: 1))
        fileSystem.crash()
        let bytes = try read(fileSystem)
        #expect(bytes.count > Self.a.count && bytes == Array((Self.a + Self.b).prefix(bytes.count)), "\(bytes)")
        #expect(fileSystem.injected.partialWrites == 1)
    }

    @Test func tornWriteEndsInJunk() throws {
        for seed in 1...UInt64(8) {
            let (fileSystem, _) = try disk(DiskFaults(tornWrite: 1), seed: seed)
            fileSystem.crash()
            let bytes = try read(fileSystem)
            let written = Self.a + Self.b
            #expect(bytes.count > Self.a.count && bytes.count <= written.count && bytes.starts(with: Self.a))
            #expect(bytes != Array(written.prefix(bytes.count)), "seed \(seed): the last bytes are zeros or garbage")
            #expect(fileSystem.injected.tornWrites == 1)
        }
    }

    // MARK: Faults of the medium

    @Test func bitFlipIsLatentUntilTheCacheIsGone() throws {
        let (fileSystem, file) = try disk(DiskFaults(bitFlip: 1))
        try fileSystem.sync(file)
        #expect(try read(fileSystem) == Self.a + Self.b)
        fileSystem.crash()
        let flipped = zip(try read(fileSystem), Self.a + Self.b).map { ($0 ^ $1).nonzeroBitCount }
        #expect(flipped[..<Self.a.count].reduce(0, +) == 1 && flipped[Self.a.count...].reduce(0, +) == 1, "one bit in what each sync wrote")
        #expect(fileSystem.injected.bitFlips == 2)
    }

    @Test func injectedBitFlipHitsASyncedByte() throws {
        let (fileSystem, _) = try disk()
        fileSystem.inject(.bitFlip)
        fileSystem.crash()
        #expect(zip(try read(fileSystem), Self.a).map { ($0 ^ $1).nonzeroBitCount }.reduce(0, +) == 1)
        #expect(fileSystem.injected.bitFlips == 1)
    }

    @Test func lostWriteLeavesTheMediumBehindTheCache() throws {
        let (fileSystem, file) = try disk()
        fileSystem.inject(.lostWrite)
        try fileSystem.sync(file)
        #expect(try read(fileSystem) == Self.a + Self.b, "the sync reported success")
        try fileSystem.write([1, 2, 3], to: file)
        try fileSystem.sync(file)
        fileSystem.crash()
        #expect(try read(fileSystem) == Self.a + Array(repeating: 0, count: Self.b.count) + [1, 2, 3], "a hole where the lost bytes belonged")
        #expect(fileSystem.injected.lostWrites == 1)
    }

    @Test func misdirectedWriteLandsElsewhere() throws {
        let (fileSystem, file) = try disk()
        fileSystem.inject(.misdirectedWrite)
        try fileSystem.sync(file)
        fileSystem.crash()
        let bytes = try read(fileSystem)
        #expect(bytes.count >= (Self.a + Self.b).count)
        #expect(Array(bytes[Self.a.count..<(Self.a + Self.b).count]) != Self.b, "not where it belonged")
        let landed = (0...(bytes.count - Self.b.count)).filter { Array(bytes[$0..<$0 + Self.b.count]) == Self.b }
        #expect(!landed.isEmpty && !landed.contains(Self.a.count), "\(bytes)")
        #expect(fileSystem.injected.misdirectedWrites == 1)
    }

    @Test func oneSeedGivesTheSameBytes() throws {
        let faults = DiskFaults(partialWrite: 0.5, tornWrite: 0.5, bitFlip: 0.5, lostWrite: 0.2, misdirectedWrite: 0.2, slowSync: 0.5)
        func run(_ seed: UInt64) throws -> ([[UInt8]], DiskFaultCounts, TimeSpan) {
            let fileSystem = SimulatedFileSystem(seed: seed, faults: faults)
            try fileSystem.createDirectory(Self.directory)
            for round in 0..<20 {
                let file = try fileSystem.overwrite(Self.directory + "/f\(round % 3)")
                try fileSystem.write(Array(repeating: UInt8(round), count: 30 + round), to: file)
                if round % 2 == 0 { try fileSystem.sync(file) }
                if round % 3 == 0 { try fileSystem.syncDirectory(Self.directory) }
                if round % 5 == 4 { fileSystem.crash() }
            }
            fileSystem.crash()
            return (try fileSystem.list(Self.directory).map { try fileSystem.readAll(Self.directory + "/" + $0) }, fileSystem.injected, fileSystem.takeSyncLatency())
        }
        let first = try run(7), again = try run(7)
        #expect(first.0 == again.0 && first.1 == again.1 && first.2 == again.2)
        #expect(first.1.total > 0)
    }
}
