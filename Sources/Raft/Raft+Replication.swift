import ConsensusCore

/// The leader's side of log replication (§5.3): pipelined, batched AppendEntries with fast
/// back-off, heartbeats, and commitment by majority in the current term (§5.4.2).
extension RaftState {
    /// Appends to the leader's log. AppendEntries carry the entry to followers while it is being
    /// written; the leader acknowledges it to itself once durable (`ownDurableIndex`).
    mutating func appendToLog(_ entry: RaftEntry, _ out: inout Effects<Raft>) {
        log.append(entry)
        out.persist(.append(firstIndex: log.lastIndex, entries: [entry]))
        noteLogChange(at: log.lastIndex)
        out.send(.appendReply(AppendReply(term: currentTerm, success: true, index: log.lastIndex, hintIndex: 0, hintTerm: 0, round: round)), to: id)
    }

    mutating func noteLogChange(at index: LogIndex) {
        lastLogChange = min(lastLogChange ?? index, index)
    }

    /// Sends what the follower in `slot` is missing, as far as its replication state allows:
    /// one probe at a time while the leader looks for the point where the logs agree, then up to
    /// `maxInflight` batches of up to `maxBatch` entries. `allowEmpty` sends an entry-less probe
    /// when there is nothing new (it reveals a gap left by a lost message).
    mutating func sendAppend(to slot: Int, allowEmpty: Bool, _ out: inout Effects<Raft>) {
        var mayBeEmpty = allowEmpty
        while true {
            switch progress[slot].state {
            case .snapshot: return
            case .probe: if progress[slot].paused { return }
            case .replicate: if progress[slot].inflight.count >= options.maxInflight { return }
            }
            let next = progress[slot].next
            guard let prevTerm = log.term(at: next - 1) else {
                sendSnapshot(to: slot, &out)
                return
            }
            let entries = next <= log.lastIndex ? batch(from: next) : []
            guard !entries.isEmpty || mayBeEmpty else { return }
            mayBeEmpty = false
            out.send(.appendEntries(AppendEntries(term: currentTerm, prevLogIndex: next - 1, prevLogTerm: prevTerm, entries: entries,
                                                  leaderCommit: commitIndex, round: round)), to: cluster[slot], departing: .atOnce)
            guard progress[slot].state == .replicate else {
                progress[slot].paused = true
                return
            }
            guard !entries.isEmpty else { return }
            progress[slot].next = next + entries.count
            progress[slot].inflight.append(next + entries.count - 1)
        }
    }

    /// Up to `maxBatch` entries from `index`. Followers in step with each other need the same
    /// batch, so the last one built is reused while it is still what the log holds there: a
    /// leader's log only grows during its term, so a batch of its term never goes stale.
    mutating func batch(from index: LogIndex) -> [RaftEntry] {
        let count = min(options.maxBatch, log.lastIndex - index + 1)
        if let cached = lastBatch, cached.term == currentTerm, cached.first == index, cached.entries.count == count {
            return cached.entries
        }
        let entries = log.entries(from: index, limit: count)
        lastBatch = (currentTerm, index, entries)
        return entries
    }

    /// New entries go to every follower whose pipeline has room.
    mutating func replicate(_ out: inout Effects<Raft>) {
        for slot in peerSlots { sendAppend(to: slot, allowEmpty: false, &out) }
    }

    /// A follower never reports more of the leader's log than the leader has, except one that
    /// compacted committed entries a leader elected without the election restriction lacks (the
    /// planted `no-election-restriction`): the report is capped at the leader's log, so that the
    /// bug shows as lost entries, as §5.4.1 says, not as a leader with nothing to send.
    mutating func handleAppendReply(_ reply: AppendReply, slot: Int, _ now: Instant, _ out: inout Effects<Raft>) {
        guard role == .leader else { return }
        acknowledgeRound(reply.round, slot: slot, now, &out)
        guard reply.success else {
            handleRejection(reply, slot: slot, &out)
            return
        }
        let advanced = progress[slot].acknowledge(min(reply.index, log.lastIndex))
        if progress[slot].state == .probe { progress[slot].becomeReplicate() }
        if advanced { maybeCommit(now, &out) }
        guard role == .leader else { return }
        sendAppend(to: slot, allowEmpty: false, &out)
    }

    /// The follower's log did not contain `prevLogIndex` with `prevLogTerm`. Stale rejections
    /// (duplicated or reordered) are recognised and ignored; otherwise the leader skips back past
    /// the conflicting term using the follower's hint and probes again.
    ///
    /// A follower whose current answer puts its log below `match` lost entries it had made durable
    /// and acknowledged: its disk failed it (a log cut short by hand or by a lying disk), outside
    /// Raft's failure model, since by Log Matching its log agreed with the leader's up to `match`.
    /// The leader then lowers `match` to what the follower has and probes from there, so the
    /// follower catches up; offering the same index again would loop forever. A lower `match`
    /// only delays commits (the commit index never goes back), so this is safe.
    mutating func handleRejection(_ reply: AppendReply, slot: Int, _ out: inout Effects<Raft>) {
        let rejected = reply.index
        switch progress[slot].state {
        case .replicate: guard rejected > progress[slot].match else { return }
        case .probe: guard rejected == progress[slot].next - 1 else { return }
        case .snapshot: return
        }
        let agreeable = log.lastIndex(atMost: reply.hintIndex, withTermAtMost: reply.hintTerm)
        if agreeable < progress[slot].match { progress[slot].match = agreeable }
        progress[slot].becomeProbe()
        progress[slot].next = max(min(rejected, agreeable + 1), progress[slot].match + 1)
        sendAppend(to: slot, allowEmpty: true, &out)
    }

    /// Starts a read round: a heartbeat to every follower. Heartbeats keep followers from timing
    /// out (§5.2), carry a commit index each follower can safely adopt, and a majority's replies
    /// confirm leadership for ReadIndex and leases (thesis §6.4).
    mutating func startRound(_ now: Instant, _ out: inout Effects<Raft>) {
        round += 1
        roundStarts.append((round: round, start: now))
        roundWanted = false
        for slot in peerSlots {
            let commit = min(commitIndex, progress[slot].match)
            out.send(.heartbeat(Heartbeat(term: currentTerm, commit: commit, round: round)), to: cluster[slot], departing: .atOnce)
        }
        updateQuorumRound(now, &out)
    }

    mutating func handleHeartbeatReply(_ reply: HeartbeatReply, slot: Int, _ now: Instant, _ out: inout Effects<Raft>) {
        guard role == .leader else { return }
        acknowledgeRound(reply.round, slot: slot, now, &out)
        guard role == .leader else { return }
        // The follower is alive: unblock replication that may be waiting on a lost message.
        switch progress[slot].state {
        case .probe: progress[slot].paused = false
        case .replicate:
            if progress[slot].inflight.count >= options.maxInflight { progress[slot].inflight.removeFirst() }
        case .snapshot where log.term(at: progress[slot].match) == nil:
            // The follower still needs the snapshot, and the outstanding chunk or its answer may
            // be lost: send the chunk again. A follower that has it answers with where it stands,
            // which sends nothing new.
            sendSnapshot(to: slot, &out)
            return
        case .snapshot:
            // AppendEntries replies moved `match` past the compacted log: replicate from there.
            progress[slot].becomeProbe()
        }
        if progress[slot].match < log.lastIndex { sendAppend(to: slot, allowEmpty: true, &out) }
    }

    /// §5.3–5.4.2: the highest index stored on a majority is committed, but only if its entry is
    /// of the current term — counting replicas of an older term's entry is what Figure 8 shows to
    /// be unsafe; such entries commit indirectly, with the first entry of this term.
    mutating func maybeCommit(_ now: Instant, _ out: inout Effects<Raft>) {
        for slot in scratch.indices { scratch[slot] = UInt64(slot == selfSlot ? ownDurableIndex : progress[slot].match) }
        let majority = LogIndex(majorityOfScratch())
        // Planted bug `figure8` counts replicas of any term's entry, which Figure 8 shows can commit
        // an entry that a later leader, elected without it, then overwrites.
        guard majority > commitIndex, options.bug == .figure8 || log.term(at: majority) == currentTerm else { return }
        advanceCommit(to: majority, now, &out)
    }

    /// Raises the commit index, applies what became committed, and serves waiting reads.
    mutating func advanceCommit(to index: LogIndex, _ now: Instant, _ out: inout Effects<Raft>) {
        guard index > commitIndex else { return }
        let termWasUncommitted = commitIndex < termStart
        commitIndex = index
        applyCommitted(&out)
        if role == .leader {
            if termWasUncommitted, commitIndex >= termStart { reads.assignReadIndex(commitIndex) }
            serveReads(now, &out)
        }
        maybeSnapshot(&out)
    }
}
