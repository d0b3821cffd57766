import ConsensusCore
import KVStore
import Raft
import Testing

/// InstallSnapshot in chunks (§7, Figure 13), between a scripted leader and a scripted follower:
/// the leader's snapshot travels in ⌈size / snapshotChunk⌉ chunks, one at a time; the follower
/// puts them together in memory and installs the snapshot with the last one; a lost, duplicated or
/// reordered chunk or a follower crash costs a resend or a restart, a newer snapshot on the leader waits,
/// never a snapshot the leader did not send.
@Suite struct SnapshotChunkTests {
    static let chunk = 64

    /// Snapshots after 4 or 5 applied entries; no CheckQuorum, so that a leader whose follower
    /// is slow to answer in a test's script does not step down.
    static func options(snapshotChunk: Int = chunk) -> RaftOptions {
        var options = RaftOptions()
        options.snapshotChunk = snapshotChunk
        options.snapshotThreshold = 4
        options.checkQuorum = false
        return options
    }

    /// A state machine of `keys` keys with long values: many chunks' worth of image.
    static func image(keys: Int) -> [UInt8] {
        var store = KVStore(sessions: SessionOptions())
        for key in 0..<keys {
            _ = store.apply(ClientRequest(client: ClientID(1), sequence: UInt64(key + 1),
                                          command: .put(key: "key\(key)", value: String(repeating: "v", count: 20 + key))), at: .zero)
        }
        return store.snapshot()
    }

    /// Node 1, leader of term 2, whose log is compacted into a snapshot at index 10 (term 1) with
    /// two entries after it, and node 2, an empty follower that needs the snapshot. Node 3 is
    /// played by the test where it plays at all; messages to it are dropped.
    final class Link {
        var leader: ScriptedNode
        var follower: ScriptedNode
        var toFollower: [RaftMessage] = []
        var toLeader: [RaftMessage] = []
        /// Every InstallSnapshot chunk the follower received, in order.
        private(set) var delivered: [SnapshotChunk] = []
        /// Every storage operation the follower applied.
        private(set) var followerWrites: [PersistOp<RaftEntry, RaftHardState>] = []
        /// Every snapshot reply the follower sent, with its departure.
        private(set) var replies: [(reply: SnapshotReply, departure: Departure)] = []

        let options: RaftOptions

        init(snapshotChunk: Int = SnapshotChunkTests.chunk) {
            options = SnapshotChunkTests.options(snapshotChunk: snapshotChunk)
            leader = ScriptedNode(id: 1, options: options, snapshot: Snapshot(lastIndex: 10, lastTerm: 1, data: SnapshotChunkTests.image(keys: 30)),
                                  terms: [1, 1])
            follower = ScriptedNode(id: 2, options: options)
            leader.elect()
            collectFromLeader()
        }

        var snapshot: Snapshot { leader.raft.snapshot! }

        func collectFromLeader() {
            for (to, message) in leader.sent where to == 2 { toFollower.append(message) }
        }

        func collectFromFollower() {
            followerWrites += follower.storage
            for outgoing in follower.out.messages where outgoing.to == NodeID(1) {
                toLeader.append(outgoing.message)
                if case .snapshotReply(let reply) = outgoing.message { replies.append((reply, outgoing.departure)) }
            }
        }

        func deliverToFollower(at index: Int = 0) {
            let message = toFollower.remove(at: index)
            if case .installSnapshot(let request) = message { delivered.append(request.chunk) }
            follower.receive(message, from: 1)
            collectFromFollower()
        }

        func deliverToLeader(at index: Int = 0) {
            leader.receive(toLeader.remove(at: index), from: 2)
            collectFromLeader()
        }

        /// Delivers everything in order until nothing is left.
        func settle() {
            while !toFollower.isEmpty || !toLeader.isEmpty {
                if !toFollower.isEmpty { deliverToFollower() }
                if !toLeader.isEmpty { deliverToLeader() }
            }
        }

        /// The leader's heartbeat timer fires; its heartbeat to the follower goes out.
        func heartbeat() {
            leader.fireTimer()
            collectFromLeader()
        }

        /// The follower crashes, losing the messages on their way to it, and restarts from what
        /// it wrote: its term (it wrote nothing else before the last chunk).
        func crashFollower() {
            toFollower.removeAll()
            follower = ScriptedNode(id: 2, options: options, term: follower.raft.currentTerm)
        }

        /// The follower holds the leader's snapshot, or none at all; its state machine likewise.
        func followerIsUncorrupted() -> Bool {
            guard let installed = follower.raft.snapshot else { return follower.raft.store.data.isEmpty }
            return installed == snapshot && follower.raft.store.data == (try? KVStore(snapshot: snapshot.data, sessions: SessionOptions()))?.data
        }
    }

    @Test func aSnapshotLargerThanAChunkTravelsInCeilChunksAndInstallsIdentically() throws {
        let link = Link()
        link.settle()
        let size = link.snapshot.data.count
        #expect(size > 10 * Self.chunk, "the image is \(size) bytes")
        #expect(link.delivered.count == (size + Self.chunk - 1) / Self.chunk)
        #expect(link.delivered.map(\.offset) == Array(stride(from: 0, to: size, by: Self.chunk)))
        #expect(link.delivered.allSatisfy { $0.lastIndex == 10 && $0.lastTerm == 1 && $0.data.count <= Self.chunk })
        #expect(link.follower.raft.snapshot == link.snapshot)
        #expect(link.follower.raft.store.data == link.leader.raft.store.data)
        #expect(link.follower.raft.log.snapshotIndex == 10 && link.follower.raft.commitIndex >= 10)
        #expect(link.follower.raft.log.lastIndex == link.leader.raft.log.lastIndex, "replication goes on after the snapshot")

        // Figure 13 step 5: the snapshot is saved once, with the last chunk; the reply to that chunk
        // acknowledges a durable install and waits for the write, earlier ones leave at once.
        let saved = link.followerWrites.compactMap { if case .snapshot(let snapshot) = $0 { snapshot } else { nil } }
        #expect(saved == [link.snapshot])
        let chunkReplies = link.replies.filter { $0.reply.lastIndex == 10 }
        #expect(chunkReplies.count == link.delivered.count)
        #expect(chunkReplies.dropLast().allSatisfy { $0.reply.matchIndex == nil && $0.departure == .atOnce })
        #expect(chunkReplies.last.map { $0.reply.matchIndex == 10 && $0.departure == .afterWrites } == true)
    }

    /// A snapshot that fits in one chunk is one InstallSnapshot, answered once.
    @Test func aSnapshotThatFitsIsOneMessage() {
        let link = Link(snapshotChunk: 65_536)
        link.settle()
        #expect(link.delivered.count == 1 && link.delivered[0].done && link.delivered[0].offset == 0)
        #expect(link.follower.raft.snapshot == link.snapshot)
    }

    /// Random loss, duplication and reordering of every message between the two, with heartbeats
    /// that resend the outstanding chunk: after every step the follower holds the leader's snapshot
    /// or none, and once the network behaves it ends with the leader's.
    @Test(arguments: 1...UInt64(Scale.count(12, full: 100)))
    func lostDuplicatedAndReorderedChunksNeverCorruptTheFollower(seed: UInt64) {
        var random = DeterministicRandom(seed: seed)
        let link = Link()
        var corrupted: [String] = []
        for step in 0..<2_000 {
            if random.chance(0.02) || (link.toFollower.isEmpty && link.toLeader.isEmpty) { link.heartbeat() }
            let toFollower = !link.toFollower.isEmpty && (link.toLeader.isEmpty || random.chance(0.5))
            let queue = toFollower ? link.toFollower : link.toLeader
            guard !queue.isEmpty else { continue }
            let index = random.index(below: queue.count)
            if random.chance(0.2) {  // lost
                if toFollower { link.toFollower.remove(at: index) } else { link.toLeader.remove(at: index) }
                continue
            }
            if random.chance(0.2) {  // duplicated
                if toFollower { link.toFollower.append(queue[index]) } else { link.toLeader.append(queue[index]) }
            }
            if toFollower { link.deliverToFollower(at: index) } else { link.deliverToLeader(at: index) }
            if !link.followerIsUncorrupted() { corrupted.append("step \(step): \(String(describing: link.follower.raft.snapshot))") }
        }
        for _ in 0..<200 where link.follower.raft.snapshot == nil {
            link.heartbeat()
            link.settle()
        }
        #expect(corrupted.isEmpty, "\(corrupted.prefix(3))")
        #expect(link.follower.raft.snapshot == link.snapshot, "the follower never got the snapshot")
        #expect(link.followerIsUncorrupted())
    }

    /// Figure 13 keeps the partial snapshot in memory: a follower that crashes mid-transfer
    /// restarts with nothing of it, says so, and the leader sends the snapshot again from offset 0.
    @Test func aFollowerCrashMidTransferRestartsCleanly() {
        let link = Link()
        while link.delivered.count < 5 {
            if !link.toFollower.isEmpty { link.deliverToFollower() }
            if !link.toLeader.isEmpty { link.deliverToLeader() }
        }
        #expect(!link.followerWrites.contains { if case .snapshot = $0 { true } else { false } }, "nothing of the snapshot is on disk")
        link.crashFollower()
        #expect(link.follower.raft.snapshot == nil)
        let before = link.delivered.count
        link.toLeader.removeAll()
        link.heartbeat()
        link.settle()
        let after = Array(link.delivered[before...])
        #expect(after.first.map { $0.offset > 0 } == true, "the leader first resends the chunk it thinks is outstanding")
        let restart = after.firstIndex { $0.offset == 0 }
        #expect(restart == 1, "the restarted follower holds nothing, and the transfer starts again: \(after.map(\.offset))")
        #expect(after.dropFirst().map(\.offset) == Array(stride(from: 0, to: link.snapshot.data.count, by: Self.chunk)))
        #expect(link.replies.contains { $0.reply.bytesStored == 0 && $0.reply.matchIndex == nil })
        #expect(link.follower.raft.snapshot == link.snapshot)
        #expect(link.followerIsUncorrupted())
    }

    /// A leader that takes a newer snapshot mid-transfer finishes the one under way first (a
    /// leader that restarted it would never get a follower across while it snapshots faster than
    /// a transfer takes), then sends the newer one from offset 0: the follower needs it, the
    /// entries after the older one being compacted away.
    @Test func aNewerSnapshotWaitsForTheTransferUnderWay() throws {
        let link = Link()
        while link.delivered.count < 3 {
            if !link.toFollower.isEmpty { link.deliverToFollower() }
            if !link.toLeader.isEmpty { link.deliverToLeader() }
        }
        // Two writes, which node 3 acknowledges with the rest of the log: they commit, and the
        // leader snapshots at the last one (threshold 4 or 5 entries after index 10).
        for sequence in 1...2 {
            link.leader.step(.client(ClientRequest(client: ClientID(9), sequence: UInt64(sequence), command: .put(key: "new\(sequence)", value: "x"))))
            link.collectFromLeader()
        }
        let last = link.leader.raft.log.lastIndex
        link.leader.receive(.appendReply(AppendReply(term: 2, success: true, index: last, hintIndex: 0, hintTerm: 0, round: 0)), from: 3)
        link.collectFromLeader()
        let newer = try #require(link.leader.raft.snapshot)
        #expect(newer.lastIndex == last, "the leader snapshotted at \(newer.lastIndex)")
        let before = link.delivered.count
        link.settle()
        let after = Array(link.delivered[before...])
        let switched = try #require(after.firstIndex { $0.lastIndex == newer.lastIndex })
        let older = after[..<switched]
        #expect(older.allSatisfy { $0.lastIndex == 10 && $0.offset > 0 }, "the older transfer goes on where it was: \(older.map(\.offset))")
        #expect(older.last?.done == true, "…to its last chunk")
        #expect(after[switched].offset == 0)
        #expect(after.count - switched == (newer.data.count + Self.chunk - 1) / Self.chunk)
        #expect(link.follower.raft.snapshot == newer)
        #expect(link.follower.raft.store.data["new2"] == "x")
        #expect(link.follower.raft.store.data == link.leader.raft.store.data)
    }
}
