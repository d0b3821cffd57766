import Testing
@testable import Zab

/// The sync decision with the seeds' examples (§3.5). The seeds write `0x20003` for epoch 2,
/// counter 3, which is `Zxid(epoch: 2, counter: 3)` (ZooKeeper prints it `0x200000003`).
@Suite struct SyncDecisionTests {
    static func z(_ epoch: UInt64, _ counter: UInt64) -> Zxid { Zxid(epoch: epoch, counter: counter) }

    @Test func zxidPacksEpochAndCounter() {
        let zxid = Self.z(2, 3)
        #expect(zxid.rawValue == 0x2_0000_0003)
        #expect(zxid.epoch == 2 && zxid.counter == 3)
        #expect(zxid.description == "0x200000003")
        #expect(Self.z(1, 0xFFFF_FFFF) < Self.z(2, 0), "a later epoch beats any counter of an earlier one")
        #expect(Self.z(2, 3).next == Self.z(2, 4))
    }

    /// §3.5.1: the leader's queue holds 0x20001…0x20004, the learner is at 0x20002: DIFF 0x20003, 0x20004.
    @Test func followerInsideTheWindowGetsDiff() {
        let window = [Self.z(2, 1), Self.z(2, 2), Self.z(2, 3), Self.z(2, 4)]
        let follower = HistorySummary(holding: [Self.z(2, 1), Self.z(2, 2)])
        let decision = SyncDecision.decide(follower: follower, window: window, windowBase: .zero)
        #expect(decision == SyncDecision(mode: .diff, commonZxid: Self.z(2, 2)), "send what follows 0x20002: 0x20003 and 0x20004")
    }

    /// §3.5.2, first case: the old leader logged 0x20003 but never proposed it; the new leader has
    /// 0x20001, 0x20002 and nothing new: roll back to 0x20002 (TRUNC only).
    @Test func followerWithAnUnsentProposalIsTruncated() {
        let window = [Self.z(2, 1), Self.z(2, 2)]
        let follower = HistorySummary(holding: [Self.z(2, 1), Self.z(2, 2), Self.z(2, 3)])
        let decision = SyncDecision.decide(follower: follower, window: window, windowBase: .zero)
        #expect(decision == SyncDecision(mode: .trunc, commonZxid: Self.z(2, 2)))
    }

    /// §3.5.2, second case: the new leader has gone on to 0x30001, 0x30002: roll back to 0x20002, then DIFF.
    @Test func followerWithAnUnsentProposalIsTruncatedThenDiffed() {
        let window = [Self.z(2, 1), Self.z(2, 2), Self.z(3, 1), Self.z(3, 2)]
        let follower = HistorySummary(holding: [Self.z(2, 1), Self.z(2, 2), Self.z(2, 3)])
        let decision = SyncDecision.decide(follower: follower, window: window, windowBase: .zero)
        #expect(decision == SyncDecision(mode: .truncDiff, commonZxid: Self.z(2, 2)))
    }

    /// §3.5.3: older than the window (or no window at all): SNAP.
    @Test func followerOlderThanTheWindowGetsSnap() {
        let window = [Self.z(2, 5), Self.z(2, 6), Self.z(3, 1)]
        let behind = HistorySummary(holding: [Self.z(1, 1), Self.z(2, 1), Self.z(2, 2)])
        #expect(SyncDecision.decide(follower: behind, window: window, windowBase: Self.z(2, 4)).mode == .snap)
        let empty = HistorySummary(holding: [])
        #expect(SyncDecision.decide(follower: empty, window: window, windowBase: Self.z(2, 4)).mode == .snap)
        #expect(SyncDecision.decide(follower: behind, window: [], windowBase: Self.z(3, 1)).mode == .snap, "no committed log: SNAP")
    }

    @Test func followerEqualToTheLeaderGetsAnEmptyDiff() {
        let window = [Self.z(2, 1), Self.z(2, 2)]
        let decision = SyncDecision.decide(follower: HistorySummary(holding: window), window: window, windowBase: .zero)
        #expect(decision == SyncDecision(mode: .diff, commonZxid: Self.z(2, 2)))
    }

    /// A follower whose last zxid is past the leader's but that lacks some of the leader's
    /// transactions: it synced with a leader of epoch 3 that had dropped 0x20004 and 0x20005, while
    /// the new leader of epoch 4 adopted them. ZooKeeper's rule (TRUNC to the leader's last zxid)
    /// would leave it without 0x20004 and 0x20005; the summary shows where it really diverges.
    @Test func truncationPointComesFromWhatTheFollowerHolds() {
        let window = [Self.z(2, 1), Self.z(2, 2), Self.z(2, 3), Self.z(2, 4), Self.z(2, 5)]
        let follower = HistorySummary(holding: [Self.z(2, 1), Self.z(2, 2), Self.z(2, 3), Self.z(3, 1)])
        let decision = SyncDecision.decide(follower: follower, window: window, windowBase: .zero)
        #expect(decision == SyncDecision(mode: .truncDiff, commonZxid: Self.z(2, 3)))
    }

    @Test func snapshotCountsAsHeld() {
        let summary = HistorySummary(lastZxid: Self.z(3, 4), snapshotZxid: Self.z(3, 2), tails: [.init(epoch: 3, counter: 4)])
        #expect(summary.holds(Self.z(2, 9)) && summary.holds(Self.z(3, 1)) && summary.holds(Self.z(3, 4)))
        #expect(!summary.holds(Self.z(3, 5)) && !summary.holds(Self.z(4, 1)))
        let window = [Self.z(3, 3), Self.z(3, 4), Self.z(3, 5)]
        #expect(SyncDecision.decide(follower: summary, window: window, windowBase: Self.z(3, 2)) == SyncDecision(mode: .diff, commonZxid: Self.z(3, 4)))
    }
}
