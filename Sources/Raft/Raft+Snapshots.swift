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

    /// Sends the follower in `slot` the next chunk of the snapshot under way to it, or, if none is,
    /// the first chunk of the leader's latest snapshot (§7, Figure 13). A transfer under way is
    /// finished even when the leader has taken a newer snapshot since: restarting it with every
    /// new snapshot never ends while snapshots come faster than a transfer takes (small chunks, a
    /// lossy link, a busy leader), and the follower would stay behind for good. Once it holds the
    /// older snapshot it needs the newer one only if the entries after it are compacted too, and
    /// then gets that one whole (as etcd's leader sends one snapshot at a time and waits for its
    /// outcome). The chunk promises nothing about the leader's disk, so it leaves at once.
    mutating func sendSnapshot(to slot: Int, _ out: inout Effects<Raft>) {
        guard let snapshot else { preconditionFailure("raft node \(id): log compacted to \(log.snapshotIndex) without a snapshot") }
        let transfer: SnapshotTransfer
        if case .snapshot(let current) = progress[slot].state {
            transfer = current
        } else {
            transfer = SnapshotTransfer(snapshot, chunkSize: options.snapshotChunk)
            progress[slot].state = .snapshot(transfer)
        }
        out.send(.installSnapshot(InstallSnapshot(term: currentTerm, chunk: transfer.chunk, round: round)), to: cluster[slot], departing: .atOnce)
    }

    /// A reply that says where the follower stands moves the transfer on: the next chunk once the
    /// outstanding one arrived, or the chunk it misses after a loss or a restart (a reply that
    /// changes nothing, to a duplicate, sends nothing). A reply that the follower holds everything
    /// the snapshot covers ends the transfer, and replication goes on after it.
    mutating func handleSnapshotReply(_ reply: SnapshotReply, slot: Int, _ now: Instant, _ out: inout Effects<Raft>) {
        guard role == .leader else { return }
        acknowledgeRound(reply.round, slot: slot, now, &out)
        guard role == .leader else { return }
        guard let matchIndex = reply.matchIndex else {
            guard case .snapshot(var transfer) = progress[slot].state, transfer.snapshot.lastIndex == reply.lastIndex,
                  transfer.receiverHolds(reply.bytesStored) else { return }
            progress[slot].state = .snapshot(transfer)
            sendSnapshot(to: slot, &out)
            return
        }
        // Capped at the leader's log, as in `handleAppendReply`.
        let advanced = progress[slot].acknowledge(min(matchIndex, log.lastIndex))
        // Even an answer that tells nothing new ends a transfer: AppendEntries replies may have
        // moved `match` past the snapshot already, and the follower would otherwise wait for
        // entries that only replication sends.
        if case .snapshot = progress[slot].state { progress[slot].becomeProbe() }
        if advanced { maybeCommit(now, &out) }
        sendAppend(to: slot, allowEmpty: false, &out)
    }
}
