import ConsensusCore
import Testing
@testable import Zab

/// The node's role, driven one step at a time.
@Suite struct RoleTests {
    /// A one-node ensemble: its first tick starts an election it wins after `finalizeWait`.
    static func leader() -> (Zab, Instant) {
        let options = ZabOptions()
        var node = Zab(id: NodeID(1), cluster: NodeID.cluster(1), options: options, recovered: .empty, seed: 1)
        var out = Effects<Zab>()
        node.step(.tick, at: .zero, into: &out)
        #expect(node.state == .looking)
        let decided = Instant.zero + options.finalizeWait
        node.step(.tick, at: decided, into: &out)
        return (node, decided)
    }

    @Test func aOneNodeEnsembleLeadsItsOwnEpoch() {
        let (node, _) = Self.leader()
        #expect(node.state == .leading && node.isEstablishedLeader && node.leaderID == NodeID(1))
        #expect(node.currentEpoch == 1)
    }

    /// Learner handlers and ballots are indexed by node: a message from outside the cluster must
    /// be dropped, not trapped on (it used to index past the learners).
    @Test func dropsMessagesFromNodesOutsideTheCluster() {
        var (node, now) = Self.leader()
        for stranger in [NodeID(0), NodeID(2), NodeID(9)] {
            for message: ZabMessage in [
                .followerInfo(connection: 7, acceptedEpoch: 0, lastZxid: .zero),
                .ack(epoch: node.currentEpoch, zxid: .zero, gap: true),
                .pingReply(epoch: node.currentEpoch, round: 1, lastZxid: .zero, upToDate: false),
                .notification(Notification(vote: Vote(leader: stranger, zxid: .zero, epoch: 5), round: 9, state: .looking)),
                .leaderInfo(epoch: 5),
            ] {
                var out = Effects<Zab>()
                now = now + .milliseconds(1)
                node.step(.receive(from: stranger, message: message), at: now, into: &out)
                #expect(out.messages.isEmpty && out.storage.isEmpty, "\(message) from \(stranger)")
            }
        }
        #expect(node.state == .leading && node.isEstablishedLeader && node.violations.isEmpty)
    }
}
