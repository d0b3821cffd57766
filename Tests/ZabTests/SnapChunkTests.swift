import ConsensusCore
import Simulator
import Testing
import Zab

/// SNAP synchronisation in chunks (`snapshotChunk`): a state larger than a chunk travels as one
/// SNAP sync per chunk, one at a time, each but the last answered by SNAPACK; the last carries the
/// proposals and is followed by NEWLEADER. Lost, duplicated and reordered chunks and a follower
/// crash mid-transfer leave the follower with exactly the leader's state.
@Suite struct SnapChunkTests {
    static let chunk = 64

    static var options: ZabOptions {
        var options = ZabOptions()
        options.snapCount = 8
        options.commitLogCount = 3
        options.snapshotChunk = chunk
        return options
    }

    /// The SNAP chunks (with the follower's connection they were sent on) and SNAPACKs between
    /// the leader and `follower` the simulation sends.
    final class Traffic {
        var chunks: [SnapshotChunk] = []
        var connections: [UInt64] = []
        var acks: [Int] = []

        init(_ simulation: Simulation<Zab>, follower: NodeID) {
            simulation.afterSend = { [unowned self] from, to, message, _ in
                switch message {
                case .sync(let payload) where to == follower:
                    if let chunk = payload.snapshot {
                        chunks.append(chunk)
                        connections.append(payload.connection)
                    }
                case .snapAck(_, _, _, let bytesStored) where from == follower: acks.append(bytesStored)
                default: break
                }
            }
        }
    }

    /// The seeds' SNAP case (`RecoveryTests.followerOlderThanTheWindowGetsSnap`) with a small
    /// chunk: a follower that missed more than the leader's window, restarted.
    static func laggingFollower(network: LinkProfile = LinkProfile(), seed: UInt64 = 1) throws -> (Simulation<Zab>, ZabChecker, NodeID, NodeID, Traffic) {
        var config = quietConfig(seed: seed)
        config.network = network
        let (simulation, checker) = checkedSimulation(config, options)
        let leader = try #require(simulation.runUntilLeader())
        let follower = simulation.cluster.first { $0 != leader }!
        RecoveryTests.write(2, via: leader, prefix: "a", in: simulation)
        simulation.apply(.crash(.id(follower)))
        RecoveryTests.write(30, via: leader, prefix: "b", in: simulation)
        let traffic = Traffic(simulation, follower: follower)
        simulation.apply(.restart(.id(follower)))
        return (simulation, checker, leader, follower, traffic)
    }

    @Test func aStateLargerThanAChunkTravelsInCeilChunksAndSyncsIdentically() throws {
        let (simulation, checker, leader, follower, traffic) = try Self.laggingFollower()
        simulation.run(for: .seconds(2))
        let last = try #require(traffic.chunks.last)
        #expect(last.done)
        let size = last.offset + last.data.count
        let count = (size + Self.chunk - 1) / Self.chunk
        #expect(size > 5 * Self.chunk, "the state is \(size) bytes")
        #expect(traffic.chunks.map(\.offset) == Array(stride(from: 0, to: size, by: Self.chunk)), "one transfer, in order, nothing resent")
        #expect(traffic.acks == Array(stride(from: Self.chunk, to: size, by: Self.chunk)), "every chunk but the last is answered with the bytes held")
        let snap = simulation.notes("sync", containing: "SNAP to \(follower)")
        #expect(snap.count == 1 && snap[0].event.detail.contains("in \(count) chunks"), "\(snap.map(\.event.detail))")
        let stored = try #require(simulation.storage(follower).durable.snapshot)
        #expect(stored.lastIndex == last.lastIndex && stored.data == traffic.chunks.flatMap(\.data), "the follower saved exactly the state sent")
        #expect(simulation.backend(follower)!.appliedData == simulation.backend(leader)!.appliedData)
        #expect(simulation.backend(follower)!.isServing)
        #expect(checker.failures.isEmpty, "\(checker.failures)")
    }

    /// A follower that crashes mid-transfer has nothing of the state on disk; it comes back on a
    /// new connection and is sent the whole state again.
    @Test func aFollowerCrashMidTransferRestartsCleanly() throws {
        let (simulation, checker, leader, follower, traffic) = try Self.laggingFollower()
        let deadline = simulation.now + .seconds(2)
        while traffic.acks.count < 3, simulation.now < deadline { simulation.run(for: .microseconds(100)) }
        #expect(traffic.acks.count == 3 && !traffic.chunks.contains { $0.done }, "mid-transfer")
        #expect(simulation.storage(follower).durable.snapshot == nil, "chunks are kept in memory only")
        simulation.apply(.crash(.id(follower)))
        let crashed = try #require(traffic.connections.last)
        simulation.apply(.restart(.id(follower)))
        simulation.run(for: .seconds(2))
        // A chunk the leader sent on the old connection, answering an ack still on its way, is dropped.
        let start = try #require(traffic.connections.firstIndex { $0 != crashed })
        let again = Array(traffic.chunks[start...])
        #expect(again.first?.offset == 0 && again.last?.done == true, "the transfer starts over: \(again.map(\.offset))")
        #expect(simulation.storage(follower).durable.snapshot?.data == again.flatMap(\.data))
        #expect(simulation.backend(follower)!.appliedData == simulation.backend(leader)!.appliedData)
        #expect(checker.failures.isEmpty, "\(checker.failures)")
    }

    /// A follower that applied a DIFF and lost only its NEWLEADER ignores the chunks of the SNAP
    /// the leader plans when it resends after the window moved on; the resent chunk is followed by
    /// NEWLEADER, which the follower answers, so it is not left waiting while pings keep it from
    /// timing out.
    @Test func aFollowerWaitingForNewLeaderIsNotStrandedByAResentSnap() throws {
        let (simulation, checker) = checkedSimulation(quietConfig(), Self.options)
        let leader = try #require(simulation.runUntilLeader())
        let follower = simulation.cluster.first { $0 != leader }!
        RecoveryTests.write(2, via: leader, prefix: "a", in: simulation)
        simulation.apply(.crash(.id(follower)))
        RecoveryTests.write(2, via: leader, prefix: "b", in: simulation)
        simulation.apply(.drop(kinds: ["NEWLEADER"], from: [.id(leader)], to: [.id(follower)]))
        let diffs = simulation.notes("sync", containing: "DIFF to \(follower)").count
        simulation.apply(.restart(.id(follower)))
        simulation.run(for: .milliseconds(300))
        #expect(simulation.notes("sync", containing: "DIFF to \(follower)").count == diffs + 1, "the follower is synced by DIFF")
        let traffic = Traffic(simulation, follower: follower)
        RecoveryTests.write(30, via: leader, prefix: "c", in: simulation)
        simulation.run(for: .milliseconds(300))
        #expect(traffic.chunks.contains { !$0.done }, "the leader resends a SNAP of several chunks")
        #expect(!simulation.backend(follower)!.isServing)
        simulation.apply(.heal)
        simulation.run(for: .seconds(3))
        #expect(simulation.backend(follower)!.isServing)
        #expect(simulation.backend(follower)!.appliedData == simulation.backend(leader)!.appliedData)
        #expect(checker.failures.isEmpty, "\(checker.failures)")
    }

    /// On a network that loses, duplicates and reorders a fifth of the messages, chunks are
    /// resent and reassembled in order: the follower ends with the leader's state, never another.
    @Test(arguments: 1...UInt64(fullRun ? 40 : 6))
    func lostDuplicatedAndReorderedChunksNeverCorruptTheFollower(seed: UInt64) throws {
        let network = LinkProfile(loss: 0.2, duplicate: 0.2, reorder: 0.2)
        let (simulation, checker, leader, follower, traffic) = try Self.laggingFollower(network: network, seed: seed)
        simulation.run(for: .seconds(5))
        #expect(traffic.chunks.contains { $0.done }, "the transfer finished")
        #expect(simulation.backend(follower)!.appliedData == simulation.backend(leader)!.appliedData)
        #expect(checker.failures.isEmpty, "\(checker.failures)")
    }
}
