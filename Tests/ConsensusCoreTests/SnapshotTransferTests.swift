import ConsensusCore
import Testing

/// The chunking both backends share (Raft's InstallSnapshot, ZAB's SNAP): a snapshot is split into
/// ⌈n / chunk⌉ chunks that put back together give its bytes, and no delivery order, loss or
/// duplication of chunks makes a receiver hold anything but the sender's snapshot or nothing.
@Suite struct SnapshotTransferTests {
    static func snapshot(bytes: Int, index: LogIndex = 40, term: UInt64 = 3) -> Snapshot {
        Snapshot(lastIndex: index, lastTerm: term, data: (0..<bytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) })
    }

    /// Every chunk the sender produces, in order, as if each one arrived.
    static func allChunks(of snapshot: Snapshot, size: Int) -> [SnapshotChunk] {
        var transfer = SnapshotTransfer(snapshot, chunkSize: size)
        var chunks = [transfer.chunk]
        while !chunks.last!.done {
            let last = chunks.last!
            let moved = transfer.receiverHolds(last.offset + last.data.count)
            #expect(moved)
            chunks.append(transfer.chunk)
        }
        return chunks
    }

    @Test(arguments: [(0, 64), (1, 64), (63, 64), (64, 64), (65, 64), (1000, 64), (1000, 1), (1000, 65_536), (129, 7)])
    func aSnapshotTravelsInCeilSizeOverChunkChunks(bytes: Int, size: Int) {
        let snapshot = Self.snapshot(bytes: bytes)
        let chunks = Self.allChunks(of: snapshot, size: size)
        let expected = max(1, (bytes + size - 1) / size)
        #expect(chunks.count == expected)
        #expect(SnapshotTransfer(snapshot, chunkSize: size).chunkCount == expected)
        #expect(chunks.allSatisfy { $0.data.count <= size && $0.lastIndex == 40 && $0.lastTerm == 3 })
        #expect(chunks.map(\.done) == Array(repeating: false, count: expected - 1) + [true])
        #expect(chunks.flatMap(\.data) == snapshot.data)

        var assembly = SnapshotAssembly()
        var outcomes = chunks.map { assembly.add($0) }
        #expect(outcomes.removeLast() == .complete(snapshot), "the last chunk installs exactly the sender's snapshot")
        #expect(outcomes == chunks.dropLast().map { .incomplete(bytesStored: $0.offset + $0.data.count) })
    }

    /// A reply that says where the receiver stands moves the transfer; one that repeats where it
    /// already stands (the answer to a duplicate) does not, so no second stream of chunks starts.
    @Test func onlyNewsFromTheReceiverMovesTheTransfer() {
        var transfer = SnapshotTransfer(Self.snapshot(bytes: 200), chunkSize: 64)
        // (receiver's report, whether it moves the transfer, the offset of the chunk to send)
        let script: [(Int, Bool, Int)] = [
            (0, false, 0),  // nothing new: chunk 0 is still outstanding
            (64, true, 64),
            (64, false, 64),  // the answer to a duplicate sends nothing
            (128, true, 128),
            (0, true, 0),  // a receiver that lost its partial snapshot starts again
            (10_000, true, 200),  // a claim beyond the end is held to the end
        ]
        for (report, moves, offset) in script {
            let moved = transfer.receiverHolds(report)
            #expect(moved == moves && transfer.chunk.offset == offset, "report \(report)")
        }
        #expect(transfer.chunk == SnapshotChunk(lastIndex: 40, lastTerm: 3, offset: 200, data: [], done: true))
    }

    @Test func aChunkOutOfPlaceChangesNothingAndSaysWhereToResume() {
        let snapshot = Self.snapshot(bytes: 300)
        let chunks = Self.allChunks(of: snapshot, size: 100)
        var assembly = SnapshotAssembly()
        #expect(assembly.add(chunks[1]) == .incomplete(bytesStored: 0), "no snapshot under way")
        #expect(assembly.add(chunks[0]) == .incomplete(bytesStored: 100))
        #expect(assembly.add(chunks[2]) == .incomplete(bytesStored: 100), "a gap: the chunk at 100 was lost")
        #expect(assembly.add(chunks[0]) == .incomplete(bytesStored: 100), "a delayed first chunk starts over")
        var other = chunks[1]
        other.lastIndex = 41
        #expect(assembly.add(other) == .incomplete(bytesStored: 0), "a chunk of another snapshot is not written into this one")
        #expect(assembly.add(chunks[1]) == .incomplete(bytesStored: 200))
        #expect(assembly.add(chunks[1]) == .incomplete(bytesStored: 200), "a duplicate is not written twice")
        #expect(assembly.add(chunks[2]) == .complete(snapshot))
        #expect(assembly.add(chunks[2]) == .incomplete(bytesStored: 0), "once complete, the partial snapshot is gone")
    }

    /// Random deliveries of the chunks of two snapshots with the same index range — losses,
    /// duplicates, reordering, and a receiver that crashes (loses its partial snapshot) — against
    /// a sender that reacts to every reply: whatever completes is exactly one of the two snapshots.
    @Test func noDeliveryOrderCorruptsTheReceiver() {
        var random = DeterministicRandom(seed: 5)
        let snapshots = [Self.snapshot(bytes: 700, index: 40), Self.snapshot(bytes: 500, index: 52, term: 4)]
        var completed = 0
        for _ in 0..<400 {
            var assembly = SnapshotAssembly()
            var transfer = SnapshotTransfer(snapshots[0], chunkSize: 1 + random.index(below: 200))
            var inFlight = [transfer.chunk]
            var installed: Snapshot?
            for _ in 0..<300 where installed == nil {
                if random.chance(0.05) { assembly = SnapshotAssembly() }  // the receiver crashed
                if random.chance(0.02) {  // a newer snapshot replaces the one under way
                    transfer = SnapshotTransfer(snapshots[1], chunkSize: transfer.chunkSize)
                    inFlight.append(transfer.chunk)
                }
                if inFlight.isEmpty || random.chance(0.1) { inFlight.append(transfer.chunk) }  // the sender's timer
                let chunk = inFlight.remove(at: random.index(below: inFlight.count))
                if random.chance(0.1) { inFlight.append(chunk) }  // duplicated
                if random.chance(0.15) { continue }  // lost
                switch assembly.add(chunk) {
                case .complete(let snapshot): installed = snapshot
                case .incomplete(let bytesStored):
                    if chunk.lastIndex == transfer.snapshot.lastIndex, transfer.receiverHolds(bytesStored) { inFlight.append(transfer.chunk) }
                }
            }
            if let installed {
                completed += 1
                #expect(snapshots.contains(installed), "installed a snapshot no sender sent: index \(installed.lastIndex), \(installed.data.count) bytes")
            }
        }
        #expect(completed > 300, "transfers complete despite the faults (\(completed) of 400)")
    }
}
