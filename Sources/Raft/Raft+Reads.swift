import ConsensusCore

/// Linearizable reads without writing the log (thesis §6.4): ReadIndex, and leader leases (§6.4.1).
///
/// Leadership is confirmed in *rounds*: every message a leader sends carries its latest round,
/// every reply echoes it, and a round is confirmed once a majority has echoed it (or a later
/// one). A read waits for a round that started after it arrived, so many reads share one round
/// and, while entries flow, rounds ride on AppendEntries at no extra cost.
extension RaftState {
    mutating func read(_ request: ClientRequest, _ now: Instant, _ out: inout Effects<Raft>) {
        let committedInTerm = commitIndex >= termStart
        // Planted bug `stale-leader-reads` skips both checks of thesis §6.4 — a quorum round (or a
        // lease) proving this node still leads: a leader cut off from its majority keeps answering
        // from a state machine that a new leader's writes have left behind.
        if options.bug == .staleLeaderReads || (options.read == .lease && committedInTerm && now < leaseExpiry) {
            out.reply(ClientReply(to: request, store.answer(read: request)))
            return
        }
        // A new leader does not know the commit index until its own no-op commits: the read
        // index is assigned then.
        reads.append(PendingRead(request: request, readIndex: committedInTerm ? commitIndex : nil, round: round + 1))
        if quorumRound == round { startRound(now, &out) } else { roundWanted = true }
    }

    /// A follower echoed `echoed`: it accepted this leader after that round began.
    mutating func acknowledgeRound(_ echoed: UInt64, slot: Int, _ now: Instant, _ out: inout Effects<Raft>) {
        guard echoed > progress[slot].ackedRound else { return }
        progress[slot].ackedRound = echoed
        if echoed > quorumRound { updateQuorumRound(now, &out) }
    }

    /// Recomputes the highest round a majority confirmed; extends the lease from that round's
    /// start, serves the reads it confirms, and starts the next round if reads wait for one.
    mutating func updateQuorumRound(_ now: Instant, _ out: inout Effects<Raft>) {
        for slot in scratch.indices { scratch[slot] = slot == selfSlot ? round : progress[slot].ackedRound }
        let confirmed = majorityOfScratch()
        guard confirmed > quorumRound else { return }
        quorumRound = confirmed
        var dropped = 0
        while dropped < roundStarts.count, roundStarts[dropped].round <= confirmed {
            // §6.4.1: no other leader can be elected until a minimum election timeout after the
            // majority heard this round, so the lease counts from the round's start, shortened by
            // the clock-drift bound.
            if roundStarts[dropped].round == confirmed { leaseExpiry = max(leaseExpiry, roundStarts[dropped].start + options.leaseDuration) }
            dropped += 1
        }
        roundStarts.removeFirst(dropped)
        serveReads(now, &out)
        if roundWanted, quorumRound == round { startRound(now, &out) }
    }

    /// Answers, in arrival order, the reads whose round is confirmed and whose read index is applied.
    mutating func serveReads(_ now: Instant, _ out: inout Effects<Raft>) {
        while let next = reads.first, let index = next.readIndex, next.round <= quorumRound, index <= lastApplied {
            out.reply(ClientReply(to: next.request, store.answer(read: next.request)))
            reads.removeFirst()
        }
    }
}

/// A read waiting at the leader.
struct PendingRead: Sendable {
    var request: ClientRequest
    /// The commit index when the read arrived (or when the leader first committed in its term).
    var readIndex: LogIndex?
    /// The round that must be confirmed before the read is served.
    var round: UInt64
}

/// Reads in arrival order; removal from the front without shifting.
struct ReadQueue: Sendable {
    private var items: [PendingRead] = []
    private var head = 0

    var first: PendingRead? { head < items.count ? items[head] : nil }

    mutating func append(_ read: PendingRead) { items.append(read) }

    mutating func removeFirst() {
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        }
    }

    mutating func removeAll() {
        items.removeAll(keepingCapacity: true)
        head = 0
    }

    /// Gives reads that arrived before the leader's first commit in its term their read index.
    mutating func assignReadIndex(_ index: LogIndex) {
        for position in head..<items.count where items[position].readIndex == nil { items[position].readIndex = index }
    }

    func forEach(_ body: (PendingRead) -> Void) {
        for position in head..<items.count { body(items[position]) }
    }
}
