import Foundation
import Glibc
import ConsensusCore
import Storage
import Testing

typealias Files = FileStorage<TestEntry, TestHardState>

/// What only a file-backed storage can get wrong: torn writes, corruption, segment rotation, and
/// crashes in the middle of snapshot and compaction (simulated by arranging the files a crash at
/// that point would leave).
@Suite struct FileStorageTests {
    private func open(_ directory: TemporaryDirectory, segmentSize: Int = 1 << 20) throws -> Files {
        try Files(directory: directory.path, options: .init(segmentSize: segmentSize))
    }

    /// Appends one entry per operation (so one record each) and closes; returns the reference state.
    @discardableResult
    private func writeLog(_ directory: TemporaryDirectory, entries count: Int, segmentSize: Int = 1 << 20,
                          then more: [Op] = []) throws -> State {
        let storage = try open(directory, segmentSize: segmentSize)
        var reference = State()
        for op in (1...count).map({ Op.append(firstIndex: $0, entries: [TestEntry(1, "e\($0)")]) }) + more {
            try reference.apply(op)
            try storage.apply(op)
        }
        try storage.close()
        return reference
    }

    /// Start offsets of the records in a segment, read by the documented framing: an 8-byte header
    /// whose first field is the number of bytes after it.
    private func recordOffsets(_ bytes: [UInt8]) -> [Int] {
        var offsets: [Int] = []
        var offset = 0
        while offset + 8 <= bytes.count {
            offsets.append(offset)
            offset += 8 + (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
        }
        return offsets
    }

    /// A record framed as documented for `offset`: length, CRC-32C of offset, length and body,
    /// then the body.
    private func frame(type: UInt8, payload: [UInt8], at offset: Int) -> [UInt8] {
        let body = [type] + payload
        var position = ByteWriter()
        position.write(UInt64(offset))
        var header = ByteWriter()
        header.write(UInt32(body.count))
        header.write(CRC32C.checksum(position.bytes + header.bytes + body))
        return header.bytes + body
    }

    private func flipBit(_ directory: TemporaryDirectory, _ name: String, at offset: Int, mask: UInt8 = 0x10) throws {
        var bytes = try directory.read(name)
        bytes[offset] ^= mask
        try directory.write(name, bytes)
    }

    /// Opening must fail with `corruptRecord` for `file` at `offset`, leaving every file as it was.
    private func expectCorruption(_ directory: TemporaryDirectory, file: String, offset: Int, reason: String,
                                  sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = try directory.names().map { try directory.read($0) }
        let error = #expect(throws: StorageError.self, sourceLocation: sourceLocation) { _ = try open(directory) }
        guard case .corruptRecord(let actualFile, let actualOffset, let actualReason) = error else {
            Issue.record("expected corruptRecord, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(actualFile == directory.file(file), sourceLocation: sourceLocation)
        #expect(actualOffset == offset, sourceLocation: sourceLocation)
        #expect(actualReason.contains(reason), "reason: \(actualReason)", sourceLocation: sourceLocation)
        #expect(try directory.names().map { try directory.read($0) } == before, "a failed open changed the files", sourceLocation: sourceLocation)
    }

    // MARK: Torn tail

    @Test func tornFinalRecordIsCutAndReported() throws {
        let directory = TemporaryDirectory()
        let reference = try writeLog(directory, entries: 5)
        var prefix = reference
        try prefix.apply(.truncate(from: 5))
        let name = try #require(try directory.segments().last)
        let original = try directory.read(name)
        let last = try #require(recordOffsets(original).last)
        // Cut inside the header, at its end, just after the type byte, and one byte short.
        for kept in [1, 4, 8, 9, original.count - last - 1] {
            try directory.write(name, Array(original[..<(last + kept)]))
            let storage = try open(directory)
            #expect(Observed(try storage.recover()) == Observed(prefix), "keeping \(kept) bytes of the last record")
            #expect(storage.lastRecovery.droppedBytes == kept)
            #expect(storage.lastRecovery.tornFile == directory.file(name))
            try storage.close()
            #expect(try directory.read(name).count == last, "the torn bytes are cut from the file")
        }
        // The repaired log carries on, and the next open finds nothing torn.
        let storage = try open(directory)
        try storage.apply(.append(firstIndex: 5, entries: [TestEntry(2, "new")]))
        try storage.close()
        let reopened = try open(directory)
        #expect(reopened.lastRecovery.droppedBytes == 0)
        #expect(reopened.lastRecovery.tornFile == nil)
        #expect(try reopened.recover().entries.map(\.payload) == ["e1", "e2", "e3", "e4", "new"])
    }

    @Test func zeroFilledTailIsTorn() throws {
        let directory = TemporaryDirectory()
        let reference = try writeLog(directory, entries: 3)
        var prefix = reference
        try prefix.apply(.truncate(from: 3))
        let name = try #require(try directory.segments().last)
        let original = try directory.read(name)
        let last = try #require(recordOffsets(original).last)
        // The file grew but the data never reached the disk: zeros after the last record, or after
        // the start of a record that was being written.
        for (bytes, dropped, expected) in [(original + Array(repeating: 0, count: 64), 64, reference),
                                           (Array(original[..<(last + 5)]) + Array(repeating: 0, count: 100), 105, prefix)] {
            try directory.write(name, bytes)
            let storage = try open(directory)
            #expect(storage.lastRecovery.droppedBytes == dropped)
            #expect(Observed(try storage.recover()) == Observed(expected))
            try storage.close()
        }
    }

    /// Property: wherever a crash cuts the last segment, recovery succeeds and finds exactly the
    /// operations whose records were complete.
    @Test func everyCutOfTheLastSegmentRecoversTheCompleteRecords() throws {
        for seed in sweepSeeds(3) {
            let directory = TemporaryDirectory()
            let storage = try open(directory)
            var operations = RandomOperations(seed: seed)
            var states = [State()]
            while states.count <= 30 {
                guard case .apply(let op) = operations.next(after: states[states.count - 1]) else { continue }
                if case .snapshot = op { continue } // a snapshot rewrites the segment atomically
                var next = states[states.count - 1]
                guard (try? next.apply(op)) != nil else { continue }
                try storage.apply(op)
                states.append(next)
            }
            try storage.close()
            let name = try #require(try directory.segments().last)
            let original = try directory.read(name)
            let ends = Array(recordOffsets(original).dropFirst()) + [original.count]
            #expect(ends.count == states.count - 1, "one record per operation")
            for cut in 0...original.count {
                try directory.write(name, Array(original[..<cut]))
                let complete = ends.prefix { $0 <= cut }.count
                let reopened = try open(directory)
                if Observed(try reopened.recover()) != Observed(states[complete]) || reopened.lastRecovery.droppedBytes != cut - (complete == 0 ? 0 : ends[complete - 1]) {
                    Issue.record("cut at \(cut): recovered \(Observed(try reopened.recover())), dropped \(reopened.lastRecovery.droppedBytes); expected the first \(complete) records; \(replayHint(seed, "everyCutOfTheLastSegment"))")
                    return
                }
                try reopened.close()
            }
        }
    }

    // MARK: Corruption

    @Test func flippedBitInAMiddleRecordIsCorruption() throws {
        let directory = TemporaryDirectory()
        try writeLog(directory, entries: 5)
        let name = try #require(try directory.segments().last)
        let original = try directory.read(name)
        let offsets = recordOffsets(original)
        for position in 1...3 {
            // In the payload, in the checksum, and in the length field (which then points elsewhere).
            for (delta, mask, reason) in [(12, UInt8(0x10), "checksum mismatch"), (5, 0x01, "checksum mismatch"), (3, 0x80, "past the end")] {
                try directory.write(name, original)
                try flipBit(directory, name, at: offsets[position] + delta, mask: mask)
                try expectCorruption(directory, file: name, offset: offsets[position], reason: reason)
            }
        }
    }

    /// A checkpoint is fsynced whole before it is renamed into place: damage to the last record of
    /// its image is corruption, not a torn write to drop (that would lose synced entries).
    @Test func damageInACheckpointsImageIsCorruptionEvenAtTheEnd() throws {
        let directory = TemporaryDirectory()
        try writeLog(directory, entries: 6, then: [.hardState(TestHardState(term: 1, votedFor: 1)),
                                                   .snapshot(Snapshot(lastIndex: 3, lastTerm: 1, data: [3]))])
        let checkpoint = try #require(try directory.segments().last)
        let original = try directory.read(checkpoint)
        let offsets = recordOffsets(original)
        #expect(offsets.count == 3, "snapshot record, hard state, entries")
        try flipBit(directory, checkpoint, at: offsets[2] + 12)
        try expectCorruption(directory, file: checkpoint, offset: offsets[2], reason: "inside the checkpoint's image")
        try directory.write(checkpoint, Array(original[..<offsets[2]]))
        try expectCorruption(directory, file: checkpoint, offset: offsets[2], reason: "1 records short of the checkpoint's image")
        // Records appended after the image may be torn as usual.
        try directory.write(checkpoint, original + [1, 2, 3])
        #expect(try open(directory).lastRecovery.droppedBytes == 3)
    }

    /// A misdirected write puts a record where another one was, and leaves zeros where it belonged.
    /// The checksum covers the record's offset, so it is not intact in the wrong place: without
    /// that, the newest hard state would replay before an older one, and the zeros pass for a tail.
    @Test func recordWrittenAtTheWrongOffsetIsNotIntactThere() throws {
        let directory = TemporaryDirectory()
        try writeLog(directory, entries: 1, then: (1...3).map { .hardState(TestHardState(term: $0, votedFor: 1)) })
        let name = try #require(try directory.segments().last)
        var bytes = try directory.read(name)
        let offsets = recordOffsets(bytes)
        #expect(offsets.count == 4, "an append, then three hard states of one size")
        let newest = Array(bytes[offsets[3]...])
        bytes.replaceSubrange(offsets[1]..<offsets[1] + newest.count, with: newest)
        bytes.replaceSubrange(offsets[3]..., with: [UInt8](repeating: 0, count: newest.count))
        try directory.write(name, bytes)
        try expectCorruption(directory, file: name, offset: offsets[1], reason: "intact records follow")
    }

    @Test func damageInASegmentBeforeTheLastIsCorruption() throws {
        let directory = TemporaryDirectory()
        try writeLog(directory, entries: 6, segmentSize: 80)
        let segments = try directory.segments()
        #expect(segments.count >= 3)
        let first = try directory.read(segments[0])
        let last = try #require(recordOffsets(first).last)
        // Even the final record of a segment is not a torn tail when another segment follows.
        try flipBit(directory, segments[0], at: last + 10)
        try expectCorruption(directory, file: segments[0], offset: last, reason: "not the last")
        try directory.write(segments[0], Array(first[..<(first.count - 3)]))
        try expectCorruption(directory, file: segments[0], offset: last, reason: "not the last")
    }

    /// A disk that acknowledged an fsync it never did leaves a segment short of its synced records:
    /// the next segment's start record, which says how long it was, catches what no checksum can.
    @Test func segmentShorterThanItsSuccessorSaysIsCorruption() throws {
        let directory = TemporaryDirectory()
        try writeLog(directory, entries: 8, segmentSize: 80)
        let segments = try directory.segments()
        #expect(segments.count >= 3)
        let first = try directory.read(segments[0])
        let last = try #require(recordOffsets(first).last)
        try directory.write(segments[0], Array(first[..<last]))
        try expectCorruption(directory, file: segments[0], offset: last, reason: "records that it was \(first.count) bytes long")
        try directory.write(segments[0], first)
        // A segment after the first must begin with its start record.
        let second = try directory.read(segments[1])
        let start = recordOffsets(second)[1]
        try directory.write(segments[1], Array(second[start...]))
        try expectCorruption(directory, file: segments[1], offset: 0, reason: "does not begin with a segment start record")
    }

    @Test func intactRecordThatDoesNotDecodeIsCorruptionEvenAtTheTail() throws {
        let directory = TemporaryDirectory()
        try writeLog(directory, entries: 2)
        let name = try #require(try directory.segments().last)
        let original = try directory.read(name)
        var gap = ByteWriter()
        gap.write(9 as Int)
        gap.write([TestEntry(1, "x")])
        let offset = original.count
        for (record, reason) in [(frame(type: 99, payload: [1, 2, 3], at: offset), "undecodable"),
                                 (frame(type: 2, payload: [1, 2, 3], at: offset), "undecodable append record"),
                                 (frame(type: 2, payload: gap.bytes, at: offset), "contradicts")] {
            try directory.write(name, original + record)
            try expectCorruption(directory, file: name, offset: original.count, reason: reason)
        }
    }

    @Test func missingSegmentIsAnError() throws {
        let directory = TemporaryDirectory()
        try writeLog(directory, entries: 8, segmentSize: 80)
        let segments = try directory.segments()
        #expect(segments.count >= 3)
        let second = try directory.read(segments[1])
        try FileManagerHelpers.remove(directory.file(segments[1]))
        try expectCorruption(directory, file: segments[2], offset: 0, reason: "is missing")
        try directory.write(segments[1], second)
        try FileManagerHelpers.remove(directory.file(segments[0]))
        try expectCorruption(directory, file: segments[1], offset: 0, reason: "neither segment 1 nor a checkpoint")
    }

    // MARK: Rotation, snapshots, compaction

    @Test func logOpensAfterSegmentRotation() throws {
        let directory = TemporaryDirectory()
        let reference = try writeLog(directory, entries: 60, segmentSize: 200,
                                     then: [.truncate(from: 50), .hardState(TestHardState(term: 3, votedFor: 2))])
        let segments = try directory.segments()
        #expect(segments.count >= 3)
        let storage = try open(directory, segmentSize: 200)
        #expect(Observed(try storage.recover()) == Observed(reference))
        #expect(storage.lastRecovery.segments == segments.map(directory.file))
        #expect(storage.lastRecovery.records == 62 + segments.count - 1, "an operation each, and a start record in each segment after the first")
        #expect(storage.lastRecovery.droppedBytes == 0)
    }

    @Test func leftoverTemporaryFilesAreIgnoredAndRemoved() throws {
        let directory = TemporaryDirectory()
        let reference = try writeLog(directory, entries: 5, then: [.snapshot(Snapshot(lastIndex: 3, lastTerm: 1, data: [3])),
                                                                   .append(firstIndex: 6, entries: [TestEntry(2, "e6")])])
        // A crash while writing the next snapshot, or the checkpoint segment after it.
        let leftovers = ["snapshot-0000000000000006.snap.tmp", "wal-0000000000000009.log.tmp"]
        for name in leftovers { try directory.write(name, Array("half-written".utf8)) }
        let storage = try open(directory)
        #expect(Observed(try storage.recover()) == Observed(reference))
        #expect(storage.lastRecovery.removedFiles == leftovers.map(directory.file))
        #expect(try directory.names().allSatisfy { !$0.hasSuffix(".tmp") })
    }

    @Test func compactionInterruptedBeforeDeletingOldSegmentsRecovers() throws {
        // Each variant puts back a different set of the segments compaction deleted.
        for restore in [{ (old: [String]) in old }, { $0.dropFirst().map { $0 } }, { [$0[$0.count - 1]] }] {
            let directory = TemporaryDirectory()
            let storage = try open(directory, segmentSize: 128)
            var reference = State()
            for op in (1...30).map({ Op.append(firstIndex: $0, entries: [TestEntry(1, "e\($0)")]) }) + [.hardState(TestHardState(term: 1, votedFor: 1))] {
                try reference.apply(op)
                try storage.apply(op)
            }
            try storage.sync()
            let old = try directory.segments()
            let saved = try old.map { try directory.read($0) }
            for op: Op in [.snapshot(Snapshot(lastIndex: 20, lastTerm: 1, data: [20])), .append(firstIndex: 31, entries: [TestEntry(2, "e31")])] {
                try reference.apply(op)
                try storage.apply(op)
            }
            try storage.close()
            let checkpoint = try directory.segments()
            #expect(Set(checkpoint).isDisjoint(with: old), "compaction deleted the old segments")
            let restored = restore(old)
            for (name, bytes) in zip(old, saved) where restored.contains(name) { try directory.write(name, bytes) }

            let reopened = try open(directory, segmentSize: 128)
            #expect(Observed(try reopened.recover()) == Observed(reference))
            #expect(reopened.lastRecovery.removedFiles == restored.map(directory.file))
            #expect(try directory.segments() == checkpoint)
        }
    }

    @Test func snapshotFileWithoutItsCheckpointIsIgnored() throws {
        // A crash after the snapshot file was renamed into place but before the checkpoint segment
        // was: the log does not mention the snapshot.
        let directory = TemporaryDirectory(), other = TemporaryDirectory()
        let reference = try writeLog(directory, entries: 10)
        try writeLog(other, entries: 10, then: [.snapshot(Snapshot(lastIndex: 8, lastTerm: 1, data: [8]))])
        let snapshotName = try #require(try other.names().first { $0.hasSuffix(".snap") })
        try directory.write(snapshotName, try other.read(snapshotName))
        let storage = try open(directory)
        #expect(Observed(try storage.recover()) == Observed(reference))
        #expect(storage.lastRecovery.removedFiles == [directory.file(snapshotName)])
    }

    @Test func damagedOrMissingSnapshotFileIsAnError() throws {
        let directory = TemporaryDirectory()
        try writeLog(directory, entries: 10, then: [.snapshot(Snapshot(lastIndex: 8, lastTerm: 1, data: Array(repeating: 8, count: 40)))])
        let snapshotName = try #require(try directory.names().first { $0.hasSuffix(".snap") })
        let checkpoint = try #require(try directory.segments().last)
        let original = try directory.read(snapshotName)
        try flipBit(directory, snapshotName, at: 30)
        try expectCorruption(directory, file: snapshotName, offset: 0, reason: "checksum mismatch")
        try directory.write(snapshotName, original + [0])
        try expectCorruption(directory, file: snapshotName, offset: original.count, reason: "unexpected bytes")
        try FileManagerHelpers.remove(directory.file(snapshotName))
        try expectCorruption(directory, file: checkpoint, offset: 0, reason: "is missing")
    }

    // MARK: Lifecycle

    @Test func closedStorageRefusesOperationsAndTheDirectoryIsLockedWhileOpen() throws {
        let directory = TemporaryDirectory()
        let storage = try open(directory)
        let locked = #expect(throws: StorageError.self) { _ = try open(directory) }
        guard case .io(_, let operation, _) = locked else {
            Issue.record("expected an io error, got \(String(describing: locked))")
            return
        }
        #expect(operation.contains("lock"))
        try storage.apply(.append(firstIndex: 1, entries: [TestEntry(1, "a")]))
        try storage.close()
        try storage.close()
        #expect(throws: StorageError.self) { try storage.apply(.truncate(from: 1)) }
        #expect(throws: StorageError.self) { try storage.sync() }
        #expect(try open(directory).recover().entries == [TestEntry(1, "a")])
    }

    /// A copy of our descriptors in a process being spawned keeps a released lock held for an
    /// instant (until that process's `exec`); the storage waits that instant out instead of failing.
    @Test func aLockReleasedWithinMomentsIsWaitedFor() throws {
        let directory = TemporaryDirectory()
        let fileSystem = PosixFileSystem()
        try fileSystem.createDirectory(directory.path)
        let briefHolder = try fileSystem.lock(directory.path).handle
        let release = Thread { usleep(50_000); Glibc.close(briefHolder) }
        release.start()
        let storage = try open(directory)
        try storage.close()
    }
}
