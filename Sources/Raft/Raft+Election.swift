import ConsensusCore

/// Leader election (§5.2, §5.4.1), PreVote (thesis §9.6) and CheckQuorum (thesis §6.2).
extension RaftState {
    /// Starts a campaign after an election timeout: a pre-vote round first when PreVote is on
    /// (the term only grows once a majority says it would vote), then a real election.
    mutating func campaign(preVote: Bool, _ now: Instant, _ out: inout Effects<Raft>) {
        resetElectionTimer(now)
        leader = nil
        for slot in grants.indices { grants[slot] = false }
        if preVote {
            // A pre-vote changes no state, so the node's own counts at once.
            role = .preCandidate
            grants[selfSlot] = true
        } else {
            role = .candidate
            currentTerm += 1
            votedFor = id
            hardStateDirty = true
            // Its own vote counts once durable, like a peer's: a candidate that crashed before its
            // vote reached the disk could vote for another candidate of the same term.
            out.send(.voteReply(VoteReply(term: currentTerm, granted: true, preVote: false)), to: id)
        }
        // The request promises nothing about the candidate's disk: it leaves while the vote is written.
        let request = VoteRequest(term: preVote ? currentTerm + 1 : currentTerm, lastLogIndex: log.lastIndex,
                                  lastLogTerm: log.lastTerm, preVote: preVote)
        for slot in peerSlots { out.send(.requestVote(request), to: cluster[slot], departing: .atOnce) }
        if preVote, quorum == 1 { won(preVote: true, now, &out) }
    }

    /// Grants a vote (or pre-vote) only to a candidate whose log is at least as up to date as
    /// ours (§5.4.1), and a real vote at most once per term, made durable before the reply leaves.
    mutating func handleVoteRequest(_ request: VoteRequest, from candidate: NodeID, _ now: Instant, _ out: inout Effects<Raft>) {
        // Planted bug `no-election-restriction` drops §5.4.1's check: a candidate missing committed
        // entries can win, and its log then overwrites them on the followers.
        let upToDate = options.bug == .noElectionRestriction
            || log.isBehindOrEqual(lastTerm: request.lastLogTerm, lastIndex: request.lastLogIndex)
        // Like etcd: no vote in a term whose leader we already know.
        let free = votedFor == candidate || (votedFor == nil && leader == nil)
        if request.preVote {
            // §9.6: a pre-vote also requires that we have not heard from a leader recently.
            let granted = (request.term > currentTerm || free) && upToDate && !heardFromLeaderRecently(now)
            out.send(.voteReply(VoteReply(term: granted ? request.term : currentTerm, granted: granted, preVote: true)), to: candidate)
            return
        }
        let granted = free && upToDate
        if granted {
            votedFor = candidate
            hardStateDirty = true
            resetElectionTimer(now)
        }
        // Figure 2 makes votedFor persistent "before responding to RPCs". Planted bug `volatile-vote`
        // lets the reply leave while the vote is still being written: a crash in between forgets the
        // vote, and the restarted node can vote again in the same term — two leaders in one term.
        let departure: Departure = options.bug == .volatileVote ? .atOnce : .afterWrites
        out.send(.voteReply(VoteReply(term: currentTerm, granted: granted, preVote: false)), to: candidate, departing: departure)
    }

    mutating func handleVoteReply(_ reply: VoteReply, slot: Int, _ now: Instant, _ out: inout Effects<Raft>) {
        guard reply.granted else { return }
        if reply.preVote {
            guard role == .preCandidate, reply.term == currentTerm + 1 else { return }
        } else {
            guard role == .candidate, reply.term == currentTerm else { return }
        }
        grants[slot] = true
        if grants.count(where: { $0 }) >= quorum { won(preVote: reply.preVote, now, &out) }
    }

    mutating func won(preVote: Bool, _ now: Instant, _ out: inout Effects<Raft>) {
        if preVote { campaign(preVote: false, now, &out) } else { becomeLeader(now, &out) }
    }

    /// §5.2 and §8: the new leader appends a no-op of its term, which lets it commit (and so
    /// learn) everything earlier terms committed, then starts replicating.
    mutating func becomeLeader(_ now: Instant, _ out: inout Effects<Raft>) {
        role = .leader
        leader = id
        for slot in progress.indices { progress[slot] = Progress(next: log.lastIndex + 1, maxInflight: options.maxInflight) }
        pendingWrites.removeAll()
        reads.removeAll()
        round = 1
        quorumRound = 0
        roundWanted = false
        roundStarts = [(round: 1, start: now)]
        leaseExpiry = .zero
        heartbeatDeadline = now + options.heartbeat
        quorumCheckDeadline = now + options.electionTimeout.lowerBound
        ownDurableIndex = 0
        appendToLog(RaftEntry(term: currentTerm, stamp: now, request: nil), &out)
        termStart = log.lastIndex
        for slot in peerSlots { sendAppend(to: slot, allowEmpty: true, &out) }
        if quorum == 1 {
            updateQuorumRound(now, &out)
            maybeCommit(now, &out)
        }
    }

    /// Thesis §6.2: a leader that heard from no majority during the last minimum election
    /// timeout steps down, so clients stop waiting on a leader that cannot commit. Returns
    /// whether it is still leader.
    mutating func checkQuorum(_ now: Instant, _ out: inout Effects<Raft>) -> Bool {
        let heard = 1 + peerSlots.count { progress[$0].recentlyActive }
        for slot in peerSlots { progress[slot].recentlyActive = false }
        guard heard >= quorum else {
            out.emit(.note(kind: "check-quorum", detail: "stepped down in term \(currentTerm): heard from \(heard) of \(cluster.count)"))
            becomeFollower(term: currentTerm, leader: nil, now, &out)
            return false
        }
        quorumCheckDeadline = now + options.electionTimeout.lowerBound
        return true
    }

    /// Leaving the leader role: clients waiting here are told to look elsewhere (their requests
    /// may still commit under the next leader; a retry with the same sequence number finds out).
    mutating func abandonLeadership(hint: NodeID?, _ out: inout Effects<Raft>) {
        for (client, sequence) in pendingWrites.all {
            out.reply(ClientReply(client: client, sequence: sequence, status: .notLeader(hint: hint)))
        }
        pendingWrites.removeAll()
        reads.forEach { out.reply(ClientReply(to: $0.request, .notLeader(hint: hint))) }
        reads.removeAll()
        roundStarts.removeAll()
        leaseExpiry = .zero
    }
}
