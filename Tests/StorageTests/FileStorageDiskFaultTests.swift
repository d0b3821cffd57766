import ConsensusCore
import Storage
import Testing

/// What each disk fault does to `FileStorage`, one at a time: the recovery after the next crash
/// repairs it, reports it, or refuses to start, and never replays wrong data.
@Suite struct FileStorageDiskFaultTests {
    static let directory = "/node"
    static let segment = directory + "/wal-0000000000000001.log"

    private func open(_ fileSystem: SimulatedFileSystem, segmentSize: Int = 1 << 20) throws(StorageError) -> Files {
        try Files(directory: Self.directory, options: .init(segmentSize: segmentSize), fileSystem: fileSystem)
    }

    private func append(_ indexes: ClosedRange<Int>, to storage: Files, sync: Bool = true) throws {
        for index in indexes { try storage.apply(.append(firstIndex: index, entries: [TestEntry(1, "e\(index)")])) }
        if sync { try storage.sync() }
    }

    private func payloads(_ storage: Files) throws -> [String] { try storage.recover().entries.map(\.payload) }

    private func names(_ indexes: ClosedRange<Int>) -> [String] { indexes.map { "e\($0)" } }

    /// Reopens after a crash: the storage, or the corruption it reported.
    private func reopenAfterCrash(_ fileSystem: SimulatedFileSystem, segmentSize: Int = 1 << 20) -> Result<Files, StorageError> {
        fileSystem.crash()
        do { return .success(try open(fileSystem, segmentSize: segmentSize)) } catch { return .failure(error) }
    }

    @Test func tornWriteIsRepairedAndKeepsEverySyncedOperation() throws {
        for seed in 1...UInt64(6) {
            let fileSystem = SimulatedFileSystem(seed: seed, faults: DiskFaults(tornWrite: 1))
            let storage = try open(fileSystem)
            try append(1...5, to: storage)
            try append(6...8, to: storage, sync: false)
            let reopened = try reopenAfterCrash(fileSystem).get()
            #expect(reopened.lastRecovery.droppedBytes > 0 && reopened.lastRecovery.tornFile == Self.segment)
            let kept = try payloads(reopened)
            #expect(kept.count >= 5 && kept == names(1...kept.count), "seed \(seed): \(kept)")
        }
    }

    @Test func partialWriteKeepsAPrefixOfTheUnsyncedOperations() throws {
        var survivors: Set<Int> = []
        for seed in 1...UInt64(6) {
            let fileSystem = SimulatedFileSystem(seed: seed, faults: DiskFaults(partialWrite: 1))
            let storage = try open(fileSystem)
            try append(1...5, to: storage)
            try append(6...8, to: storage, sync: false)
            let kept = try payloads(try reopenAfterCrash(fileSystem).get())
            #expect(kept.count >= 5 && kept == names(1...kept.count), "seed \(seed): \(kept)")
            survivors.insert(kept.count)
        }
        #expect(survivors.count > 1, "the prefix varies with the seed: \(survivors.sorted())")
    }

    /// A flip in the last record cannot be told from a torn write: dropped and reported. Anywhere
    /// else it is corruption, and the storage does not open.
    @Test func bitFlipInASyncedRecordIsReportedAfterTheNextCrash() throws {
        var outcomes = (corrupt: 0, repaired: 0)
        for seed in 1...UInt64(12) {
            let fileSystem = SimulatedFileSystem(seed: seed)
            try append(1...6, to: try open(fileSystem))
            fileSystem.inject(.bitFlip)
            switch reopenAfterCrash(fileSystem) {
            case .success(let reopened):
                let kept = try payloads(reopened)
                #expect(reopened.lastRecovery.droppedBytes > 0 && kept == names(1...5), "seed \(seed): \(kept)")
                outcomes.repaired += 1
            case .failure(.corruptRecord(let file, _, _)):
                #expect(file == Self.segment)
                outcomes.corrupt += 1
            case .failure(let error):
                Issue.record("seed \(seed): \(error)")
            }
        }
        #expect(outcomes.corrupt > 0 && outcomes.repaired > 0, "\(outcomes)")
    }

    @Test func lostWriteFollowedByLaterWritesIsCorruption() throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        let storage = try open(fileSystem)
        try append(1...3, to: storage)
        fileSystem.inject(.lostWrite)
        try append(4...4, to: storage)
        try append(5...5, to: storage)
        guard case .failure(.corruptRecord(Self.segment, _, let reason)) = reopenAfterCrash(fileSystem) else {
            Issue.record("expected corruption in \(Self.segment)")
            return
        }
        #expect(reason.contains("intact records follow"), "\(reason)")
    }

    /// The limit of any log: the newest synced write, lost with nothing written after it, leaves no
    /// trace on this disk. (Replication is what covers it: the node's peers still have the entry.)
    @Test func lostWriteAtTheEndOfTheLogIsInvisible() throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        let storage = try open(fileSystem)
        try append(1...3, to: storage)
        fileSystem.inject(.lostWrite)
        try append(4...4, to: storage)
        let reopened = try reopenAfterCrash(fileSystem).get()
        #expect(try payloads(reopened) == names(1...3))
        #expect(reopened.lastRecovery.droppedBytes == 0)
    }

    /// The fsync that closes a full segment is lost: the next segment's start record says how long
    /// the segment was, so recovery refuses rather than skipping the lost operations.
    @Test func lostWriteAtTheEndOfASegmentIsCaughtByTheNextOne() throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        let storage = try open(fileSystem, segmentSize: 200)
        try append(1...1, to: storage)
        fileSystem.inject(.lostWrite)
        var index = 2
        while try fileSystem.list(Self.directory).count < 2 {
            try append(index...index, to: storage, sync: false)
            index += 1
        }
        try storage.sync()
        guard case .failure(.corruptRecord(Self.segment, _, let reason)) = reopenAfterCrash(fileSystem, segmentSize: 200) else {
            Issue.record("expected corruption in \(Self.segment)")
            return
        }
        #expect(reason.contains("records that it was"), "\(reason)")
    }

    /// Wherever a misdirected write lands, the record is not intact there: recovery refuses, or cuts
    /// the damaged tail, and never applies the record out of place.
    @Test func misdirectedWriteIsNeverReplayedOutOfPlace() throws {
        var outcomes = (corrupt: 0, repaired: 0)
        for seed in 1...UInt64(12) {
            let fileSystem = SimulatedFileSystem(seed: seed)
            let storage = try open(fileSystem)
            try append(1...4, to: storage)
            fileSystem.inject(.misdirectedWrite)
            try storage.apply(.hardState(TestHardState(term: 9, votedFor: 1)))
            try storage.sync()
            switch reopenAfterCrash(fileSystem) {
            case .success(let reopened):
                let recovered = try reopened.recover()
                let kept = recovered.entries.map(\.payload)
                #expect(reopened.lastRecovery.droppedBytes > 0 && recovered.hardState == nil, "seed \(seed)")
                #expect(kept == names(1...4).prefix(kept.count).map { $0 }, "seed \(seed): \(kept)")
                outcomes.repaired += 1
            case .failure(.corruptRecord):
                outcomes.corrupt += 1
            case .failure(let error):
                Issue.record("seed \(seed): \(error)")
            }
        }
        #expect(outcomes.corrupt > 0 && outcomes.repaired > 0, "\(outcomes)")
    }

    /// A driver charges the time the storage's syncs took, slow ones included.
    @Test func slowSyncShowsInTheLatencyADriverCharges() throws {
        let fileSystem = SimulatedFileSystem(seed: 1, faults: DiskFaults(slowSync: 1, slowSyncFactor: 10), syncLatency: .microseconds(100))
        let storage = try open(fileSystem)
        #expect(fileSystem.takeSyncLatency() == .milliseconds(1), "creating the first segment syncs the directory")
        try append(1...3, to: storage)
        #expect(fileSystem.takeSyncLatency() == .milliseconds(1))
        try storage.sync()
        #expect(fileSystem.takeSyncLatency() == .zero, "nothing to sync")
    }
}
