import ConsensusCore
import Storage
import Testing

/// Property: `FileStorage` over a `SimulatedFileSystem` that crashes and misbehaves never starts
/// from wrong data and never loses a synced operation without saying so. After every crash, opening
/// the directory either
/// - recovers the state of a prefix of the operations the storage was given (across earlier lives)
///   that holds every synced one (unsynced ones may survive too, in order);
/// - recovers a shorter prefix, which only a fault of the medium since the last crash excuses: a
///   bit flip or misdirected write in the last record, reported as a repaired tail
///   (`droppedBytes`), or a lost write, which no log can notice when nothing was written after it;
/// - or throws `corruptRecord` naming the file and offset, which only a fault of the medium excuses.
/// Anything else fails: above all a state no prefix gives, and a torn tail reported when the crash
/// tore nothing.
@Suite struct DiskFaultPropertyTests {
    /// The disk of each sweep: one fault kind at a time, then all together.
    enum Disk: String, CaseIterable, CustomStringConvertible {
        case perfect, partialWrites, tornWrites, bitFlips, lostWrites, misdirectedWrites, slowSyncs, everything

        var faults: DiskFaults {
            switch self {
            case .perfect: DiskFaults()
            case .partialWrites: DiskFaults(partialWrite: 0.7)
            case .tornWrites: DiskFaults(tornWrite: 0.7)
            case .bitFlips: DiskFaults(bitFlip: 0.05)
            case .lostWrites: DiskFaults(lostWrite: 0.05)
            case .misdirectedWrites: DiskFaults(misdirectedWrite: 0.05)
            case .slowSyncs: DiskFaults(slowSync: 0.3, slowSyncFactor: 10)
            case .everything: DiskFaults(partialWrite: 0.3, tornWrite: 0.3, bitFlip: 0.02, lostWrite: 0.02, misdirectedWrite: 0.02, slowSync: 0.1)
            }
        }

        var description: String { rawValue }
    }

    /// What the sweeps of one disk came to, so the test can show it exercised every outcome.
    struct Outcomes {
        var crashes = 0
        var repairedTails = 0
        var corruptionsFound = 0
        var syncedOperationsLost = 0
        var injected = DiskFaultCounts()
    }

    @Test(arguments: Disk.allCases)
    func recoveryKeepsEverySyncedOperationOrSaysWhy(_ disk: Disk) throws {
        var outcomes = Outcomes()
        for seed in sweepSeeds(30) {
            var run = try CrashingRun(seed: seed, faults: disk.faults)
            if let failure = try run.play(steps: 80) {
                Issue.record("\(disk): \(failure); \(replayHint(seed, "recoveryKeepsEverySyncedOperationOrSaysWhy"))")
                return
            }
            outcomes.add(run)
        }
        #expect(outcomes.crashes > 100)
        switch disk {
        case .perfect, .slowSyncs:
            #expect(outcomes.injected.total == outcomes.injected.slowSyncs)
        case .partialWrites, .tornWrites:
            #expect(outcomes.repairedTails > 0, "\(outcomes)")
        case .bitFlips, .misdirectedWrites, .everything:
            #expect(outcomes.corruptionsFound > 0, "\(outcomes)")
        case .lostWrites:
            #expect(outcomes.syncedOperationsLost + outcomes.corruptionsFound > 0, "\(outcomes)")
        }
        if disk == .slowSyncs { #expect(outcomes.injected.slowSyncs > 0) }
    }
}

extension DiskFaultPropertyTests.Outcomes {
    mutating func add(_ run: CrashingRun) {
        crashes += run.crashes
        repairedTails += run.repairedTails
        corruptionsFound += run.corruptionFound ? 1 : 0
        syncedOperationsLost += run.syncedOperationsLost
        injected = injected + run.fileSystem.injected
    }
}

/// One node's storage through random operations, syncs, clean restarts and crashes, checking each
/// recovery against the operations it was given (the rules are on `DiskFaultPropertyTests`).
struct CrashingRun {
    static let directory = "/node"
    static let options = Files.Options(segmentSize: 200)

    let fileSystem: SimulatedFileSystem
    private var storage: Files
    private var operations: RandomOperations
    private var choices: DeterministicRandom
    /// The operations the storage's state is made of, in order (a recovery that kept a prefix cuts
    /// the rest), and `states[i]`, the state after the first `i`; `history[..<synced]` are durable
    /// (synced, compacted into a checkpoint, closed cleanly, or found by a recovery).
    private var history: [Op] = []
    private var states = [State()]
    private var synced = 0
    private var current: State { states[states.count - 1] }
    /// The disk's fault counts at the last crash: what happened since excuses what recovery finds.
    private var injectedAtCrash = DiskFaultCounts()

    private(set) var crashes = 0
    private(set) var repairedTails = 0
    private(set) var syncedOperationsLost = 0
    private(set) var corruptionFound = false

    init(seed: UInt64, faults: DiskFaults) throws {
        fileSystem = SimulatedFileSystem(seed: seed, faults: faults)
        storage = try Files(directory: Self.directory, options: Self.options, fileSystem: fileSystem)
        operations = RandomOperations(seed: seed)
        choices = DeterministicRandom(seed: seed, label: "crash-or-close")
    }

    /// Runs `steps` steps; returns what went wrong, or nil. Stops early when recovery reports
    /// corruption: the node would stop there too.
    mutating func play(steps: Int) throws -> String? {
        for _ in 0..<steps {
            let failure: String?
            switch operations.next(after: current) {
            case .apply(let op): failure = try apply(op)
            case .sync:
                try storage.sync()
                synced = history.count
                failure = nil
            case .restart:
                failure = choices.chance(0.2) ? try restartCleanly() : try crashAndRecover()
            }
            if failure != nil || corruptionFound { return failure }
        }
        return try crashAndRecover()
    }

    private mutating func apply(_ op: Op) throws -> String? {
        var expected = current
        let valid = (try? expected.apply(op)) != nil
        do {
            try storage.apply(op)
        } catch {
            guard !valid, case .invalidOperation = error else { return "apply(\(op)) failed: \(error)" }
            return nil
        }
        guard valid else { return "FileStorage accepted \(op), which StoredState rejects" }
        // A newer snapshot is installed by writing and syncing the whole state (compaction).
        let compacted = expected.snapshot?.lastIndex != current.snapshot?.lastIndex
        history.append(op)
        states.append(expected)
        if compacted { synced = history.count }
        return nil
    }

    /// A clean shutdown syncs; the reopened storage finds exactly what it had. (It reads the cache:
    /// damage on the medium waits for the next crash.)
    private mutating func restartCleanly() throws -> String? {
        try storage.close()
        synced = history.count
        storage = try Files(directory: Self.directory, options: Self.options, fileSystem: fileSystem)
        guard Observed(try storage.recover()) == Observed(current), storage.lastRecovery.droppedBytes == 0 else {
            return "after a clean restart: recovered \(Observed(try storage.recover())), dropped \(storage.lastRecovery.droppedBytes); expected \(Observed(current))"
        }
        return nil
    }

    private mutating func crashAndRecover() throws -> String? {
        fileSystem.crash()
        crashes += 1
        let since = fileSystem.injected - injectedAtCrash
        injectedAtCrash = fileSystem.injected
        let mediumFaults = since.bitFlips + since.lostWrites + since.misdirectedWrites
        do {
            storage = try Files(directory: Self.directory, options: Self.options, fileSystem: fileSystem)
        } catch .corruptRecord(let file, let offset, let reason) {
            corruptionFound = true
            guard mediumFaults > 0 else { return "corruptRecord in \(file) at \(offset) (\(reason)) with only \(since) since the last crash" }
            guard file.hasPrefix(Self.directory + "/"), offset >= 0 else { return "corruptRecord names \(file) at \(offset)" }
            return nil
        }
        return checkRecovery(mediumFaults: mediumFaults, since: since)
    }

    /// The recovered state must be that of a prefix of `history`; a prefix without every synced
    /// operation needs a fault of the medium that explains it.
    private mutating func checkRecovery(mediumFaults: Int, since: DiskFaultCounts) -> String? {
        let recovered: Observed
        do { recovered = Observed(try storage.recover()) } catch { return "recover() failed: \(error)" }
        let dropped = storage.lastRecovery.droppedBytes
        guard let kept = states.indices.last(where: { Observed(states[$0]) == recovered }) else {
            return "recovered \(recovered), the state of no prefix of \(history.map(Self.describe)) (\(since) since the last crash)"
        }
        if dropped > 0 { repairedTails += 1 }
        if dropped > 0, since.tornWrites + since.partialWrites + mediumFaults == 0 {
            return "dropped \(dropped) bytes after a crash that tore nothing"
        }
        if kept < synced {
            syncedOperationsLost += synced - kept
            let excused = since.lostWrites > 0 || (dropped > 0 && since.bitFlips + since.misdirectedWrites > 0)
            guard excused else {
                return "lost synced operations \(history[kept..<synced].map(Self.describe)) (dropped \(dropped) bytes; \(since) since the last crash)"
            }
        }
        history.removeSubrange(kept...)
        states.removeSubrange((kept + 1)...)
        synced = kept
        return nil
    }

    private static func describe(_ op: Op) -> String {
        switch op {
        case .append(let firstIndex, let entries): "append(\(firstIndex), \(entries))"
        case .truncate(let index): "truncate(\(index))"
        case .hardState(let state): "hardState(\(state.term), \(state.votedFor.map(String.init) ?? "-"))"
        case .snapshot(let snapshot): "snapshot(\(snapshot.lastIndex), term \(snapshot.lastTerm))"
        }
    }
}
