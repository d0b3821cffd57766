import ConsensusCore

/// Log compaction (§7): each node snapshots its state machine once enough entries are applied,
/// at a threshold jittered per node, and a leader sends its snapshot to a follower that needs
/// entries it no longer has.
extension RaftState {
    /// A threshold in `[t, 1.5 t)` drawn from the node's own generator, so replicas of one
    /// cluster do not all pause to snapshot at the same index.
    mutating func drawSnapshotTrigger() -> Int {
        let threshold = options.snapshotThreshold
        return threshold + random.uniform(0...max(0, threshold / 2 - 1))
    }

    mutating func maybeSnapshot(_ out: inout Effects<Raft>) {
        guard lastApplied - log.snapshotIndex >= snapshotTrigger else { return }
        let taken = Snapshot(lastIndex: lastApplied, lastTerm: log.term(at: lastApplied)!, data: store.snapshot())
        log.compact(through: taken.lastIndex, term: taken.lastTerm)
        snapshot = taken
        out.persist(.snapshot(taken))
        out.emit(.note(kind: "snapshot", detail: "at index \(taken.lastIndex) term \(taken.lastTerm)"))
        snapshotTrigger = drawSnapshotTrigger()
    }

    mutating func sendSnapshot(to slot: Int, _ out: inout Effects<Raft>) {
        guard let snapshot else { preconditionFailure("raft node \(id): log compacted to \(log.snapshotIndex) without a snapshot") }
        progress[slot].state = .snapshot
        out.send(.installSnapshot(InstallSnapshot(term: currentTerm, snapshot: snapshot, round: round)), to: cluster[slot], departing: .atOnce)
    }

    mutating func handleSnapshotReply(_ reply: SnapshotReply, slot: Int, _ now: Instant, _ out: inout Effects<Raft>) {
        guard role == .leader else { return }
        acknowledgeRound(reply.round, slot: slot, now, &out)
        guard role == .leader else { return }
        let advanced = progress[slot].acknowledge(reply.matchIndex)
        if progress[slot].state == .snapshot { progress[slot].becomeProbe() }
        if advanced { maybeCommit(now, &out) }
        sendAppend(to: slot, allowEmpty: false, &out)
    }
}
