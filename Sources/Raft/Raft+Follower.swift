import ConsensusCore
import KVStore

/// The follower's side of replication: AppendEntries (§5.3), heartbeats, InstallSnapshot (§7).
extension RaftState {
    /// A message from the leader of the current term: follow it and restart the election timer.
    /// Returns false (and reports it) if this node leads the same term itself — impossible while
    /// votes are durable, possible when storage loses synced state (`fsync: false`).
    mutating func acceptLeader(_ peer: NodeID, _ now: Instant, _ out: inout Effects<Raft>) -> Bool {
        guard role != .leader else {
            out.emit(.violation(SafetyViolation(.electionSafety, "\(peer) and \(id) both lead term \(currentTerm)")))
            return false
        }
        if role != .follower || leader != peer { becomeFollower(term: currentTerm, leader: peer, now, &out) }
        lastLeaderContact = now
        resetElectionTimer(now)
        return true
    }

    /// §5.3: reject unless the log holds `prevLogIndex` with `prevLogTerm`; then keep every entry
    /// that already matches and replace the log only from the first real conflict, so that a
    /// duplicated or reordered request never truncates entries a later request appended.
    mutating func handleAppendEntries(_ request: AppendEntries, from peer: NodeID, _ now: Instant, _ out: inout Effects<Raft>) {
        guard acceptLeader(peer, now, &out) else { return }
        let entries = request.entries
        let base = request.prevLogIndex + 1  // index of entries[0]
        var prev = request.prevLogIndex, prevTerm = request.prevLogTerm
        var position = 0
        if prev < log.snapshotIndex {
            // Entries up to the snapshot are committed, hence identical to the leader's: skip them.
            guard prev + entries.count > log.snapshotIndex else {
                reply(request, success: true, index: log.snapshotIndex, to: peer, &out)
                return
            }
            position = log.snapshotIndex - prev
            prev = log.snapshotIndex
            prevTerm = entries[position - 1].term
        }
        guard log.term(at: prev) == prevTerm else {
            // Fast back-off: tell the leader where our log can next agree with a log whose entry
            // at `prev` has term `prevTerm`.
            let hint = log.lastIndex(atMost: prev, withTermAtMost: prevTerm)
            out.send(.appendReply(AppendReply(term: currentTerm, success: false, index: request.prevLogIndex,
                                              hintIndex: hint, hintTerm: log.term(at: hint)!, round: request.round)), to: peer)
            return
        }
        while position < entries.count, log.term(at: base + position) == entries[position].term { position += 1 }
        if position < entries.count {
            let first = base + position
            if first <= commitIndex {
                // Impossible while storage keeps what it synced (Leader Completeness); with
                // `fsync: false` it happens, and the lab reports it rather than stopping.
                out.emit(.violation(SafetyViolation(.committedEntryOverwritten, "leader \(peer) overwrites committed entry \(first) at \(id) (commit \(commitIndex))")))
                commitIndex = first - 1
                lastApplied = min(lastApplied, commitIndex)
            }
            let suffix = entries[position...]
            log.replace(from: first, with: suffix)
            lastBatch = nil
            out.persist(.append(firstIndex: first, entries: position == 0 ? entries : Array(suffix)))
            noteLogChange(at: first)
        }
        let matched = request.prevLogIndex + entries.count
        reply(request, success: true, index: matched, to: peer, &out)
        advanceCommit(to: min(request.leaderCommit, matched), now, &out)
    }

    private func reply(_ request: AppendEntries, success: Bool, index: LogIndex, to peer: NodeID, _ out: inout Effects<Raft>) {
        out.send(.appendReply(AppendReply(term: currentTerm, success: success, index: index, hintIndex: 0, hintTerm: 0,
                                          round: request.round)), to: peer)
    }

    /// A heartbeat's commit index is capped by the leader at what it knows we hold, so it can be
    /// adopted without a consistency check.
    mutating func handleHeartbeat(_ request: Heartbeat, from peer: NodeID, _ now: Instant, _ out: inout Effects<Raft>) {
        guard acceptLeader(peer, now, &out) else { return }
        out.send(.heartbeatReply(HeartbeatReply(term: currentTerm, round: request.round)), to: peer)
        advanceCommit(to: min(request.commit, log.lastIndex), now, &out)
    }

    /// §7 and Figure 13's receiver: chunks of the leader's snapshot are put together in memory in
    /// offset order (steps 2–4), and the last one installs it (steps 5–8) — unless this node has
    /// already committed everything the snapshot covers, which it tells the leader at once so that
    /// no more chunks are sent.
    mutating func handleInstallSnapshot(_ request: InstallSnapshot, from peer: NodeID, _ now: Instant, _ out: inout Effects<Raft>) {
        guard acceptLeader(peer, now, &out) else { return }
        let chunk = request.chunk
        guard chunk.lastIndex > commitIndex else {
            out.send(.snapshotReply(SnapshotReply(term: currentTerm, lastIndex: chunk.lastIndex, bytesStored: 0, matchIndex: commitIndex,
                                                  round: request.round)), to: peer)
            return
        }
        switch incomingSnapshot.add(chunk) {
        case .incomplete(let bytesStored):
            // Only memory changed: the reply promises nothing about the disk and leaves at once.
            out.send(.snapshotReply(SnapshotReply(term: currentTerm, lastIndex: chunk.lastIndex, bytesStored: bytesStored, matchIndex: nil,
                                                  round: request.round)), to: peer, departing: .atOnce)
        case .complete(let incoming):
            install(incoming, from: peer, &out)
            // Acknowledges a durable install: it waits for the snapshot's write.
            out.send(.snapshotReply(SnapshotReply(term: currentTerm, lastIndex: incoming.lastIndex, bytesStored: incoming.data.count,
                                                  matchIndex: incoming.lastIndex, round: request.round)), to: peer)
        }
    }

    /// Figure 13, steps 5–8: save the snapshot; keep the entries after it when our log agrees at
    /// its last index, otherwise discard the whole log; reset the state machine to it.
    private mutating func install(_ incoming: Snapshot, from peer: NodeID, _ out: inout Effects<Raft>) {
        do { store = try options.stateMachine.make(snapshot: incoming.data, sessions: options.sessions) } catch {
            preconditionFailure("raft node \(id): snapshot from \(peer) at \(incoming.lastIndex) does not decode: \(error)")
        }
        out.persist(.snapshot(incoming))
        if log.term(at: incoming.lastIndex) == incoming.lastTerm {
            log.compact(through: incoming.lastIndex, term: incoming.lastTerm)
        } else {
            log.reset(toSnapshotAt: incoming.lastIndex, term: incoming.lastTerm)
            out.persist(.truncate(from: incoming.lastIndex + 1))
        }
        noteLogChange(at: incoming.lastIndex)
        lastBatch = nil
        snapshot = incoming
        commitIndex = incoming.lastIndex
        lastApplied = incoming.lastIndex
        out.emit(.note(kind: "snapshot-installed", detail: "from \(peer) at index \(incoming.lastIndex) term \(incoming.lastTerm)"))
    }
}
