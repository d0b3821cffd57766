import ConsensusCore
import Raft
import Testing

/// Single rules of the Raft paper and thesis, each exercised on one node driven message by message
/// (the style of etcd-io/raft's paper tests).
@Suite struct PaperRuleTests {
    static let put = ClientRequest(client: ClientID(9), sequence: 1, command: .put(key: "x", value: "1"))

    /// §5.4.2 / Figure 8: a leader does not commit an entry of an earlier term by counting
    /// replicas, only once an entry of its own term is stored on a majority.
    @Test func leaderOnlyCommitsEntriesOfItsTerm() {
        var node = ScriptedNode(terms: [1, 2], term: 2)
        node.elect()
        #expect(node.raft.role == .leader)
        let term = node.raft.currentTerm
        #expect(node.raft.log.lastIndex == 3 && node.raft.log.term(at: 3) == term, "a new leader appends a no-op of its term")
        // Node 2 holds the term-2 entry: a majority (1, 2) has index 2, but it is not of this term.
        node.receive(.appendReply(AppendReply(term: term, success: true, index: 2, hintIndex: 0, hintTerm: 0, round: 1)), from: 2)
        #expect(node.raft.commitIndex == 0, "committed index \(node.raft.commitIndex) by counting replicas of an older term")
        node.receive(.appendReply(AppendReply(term: term, success: true, index: 3, hintIndex: 0, hintTerm: 0, round: 1)), from: 2)
        #expect(node.raft.commitIndex == 3, "the no-op of the current term commits, and with it everything before")
    }

    /// §5.4.1: a vote goes only to a candidate whose log is at least as up to date (last term
    /// first, then length).
    @Test(arguments: [(Term(1), 5, false), (Term(2), 1, false), (Term(2), 2, true), (Term(3), 1, true)])
    func electionRestriction(lastTerm: Term, lastIndex: Int, granted: Bool) {
        var node = ScriptedNode(terms: [1, 2], term: 2)
        node.receive(.requestVote(VoteRequest(term: 3, lastLogIndex: lastIndex, lastLogTerm: lastTerm, preVote: false)), from: 2)
        #expect(node.voteReply()?.granted == granted)
        #expect(node.raft.currentTerm == 3, "a higher term is adopted whatever the vote")
    }

    /// Figure 2: one vote per term, on stable storage before the reply leaves, and remembered
    /// across a restart.
    @Test func oneDurableVotePerTerm() {
        var node = ScriptedNode(terms: [1], term: 1)
        node.receive(.requestVote(VoteRequest(term: 2, lastLogIndex: 1, lastLogTerm: 1, preVote: false)), from: 2)
        #expect(node.voteReply()?.granted == true)
        let persisted = node.storage.compactMap { op -> RaftHardState? in if case .hardState(let state) = op { state } else { nil } }
        #expect(persisted == [RaftHardState(term: 2, votedFor: NodeID(2))], "the vote must be persisted in the step that grants it")
        node.receive(.requestVote(VoteRequest(term: 2, lastLogIndex: 1, lastLogTerm: 1, preVote: false)), from: 3)
        #expect(node.voteReply()?.granted == false, "voted twice in term 2")
        var restarted = ScriptedNode(terms: [1], term: 2, votedFor: 2)
        restarted.receive(.requestVote(VoteRequest(term: 2, lastLogIndex: 1, lastLogTerm: 1, preVote: false)), from: 3)
        #expect(restarted.voteReply()?.granted == false, "a restarted node voted again in the same term")
    }

    /// §5.3: a duplicated or reordered AppendEntries whose entries already match must not
    /// truncate the entries that follow them.
    @Test func staleAppendNeverTruncatesMatchingSuffix() {
        var node = ScriptedNode(terms: [1], term: 1)
        let entries = [RaftEntry(term: 1, stamp: .zero, request: Self.put), RaftEntry(term: 1, stamp: .zero, request: nil)]
        node.receive(.appendEntries(AppendEntries(term: 1, prevLogIndex: 1, prevLogTerm: 1, entries: entries, leaderCommit: 0, round: 1)), from: 2)
        #expect(node.raft.log.lastIndex == 3)
        node.receive(.appendEntries(AppendEntries(term: 1, prevLogIndex: 1, prevLogTerm: 1, entries: [entries[0]], leaderCommit: 0, round: 1)), from: 2)
        #expect(node.raft.log.lastIndex == 3, "a stale AppendEntries truncated the log")
        #expect(node.storage.isEmpty, "nothing to write for entries already held")
        #expect(node.appendReply()?.success == true && node.appendReply()?.index == 2, "it acknowledges what it matched, not its last index")
    }

    /// §5.3: a conflicting entry and everything after it are replaced, in the log and on storage.
    @Test func conflictingSuffixIsReplaced() {
        var node = ScriptedNode(terms: [1, 1, 2, 2], term: 2)
        let entry = RaftEntry(term: 3, stamp: .zero, request: Self.put)
        node.receive(.appendEntries(AppendEntries(term: 3, prevLogIndex: 2, prevLogTerm: 1, entries: [entry], leaderCommit: 0, round: 1)), from: 2)
        #expect(node.raft.log.lastIndex == 3 && node.raft.log[3] == entry)
        guard case .append(let first, let written)? = node.storage.first(where: { if case .append = $0 { true } else { false } }) else {
            Issue.record("no append persisted")
            return
        }
        #expect(first == 3 && written == [entry], "storage must replace the suffix from index 3")
    }

    /// Fast back-off: a rejection names where the follower's log can next agree, skipping a whole
    /// conflicting term at once.
    @Test(arguments: [(6, Term(3), 5, Term(2)), (4, Term(3), 4, Term(2)), (4, Term(1), 1, Term(1))])
    func rejectionCarriesConflictHint(prevIndex: Int, prevTerm: Term, hintIndex: Int, hintTerm: Term) {
        var node = ScriptedNode(terms: [1, 2, 2, 2, 2], term: 2)
        node.receive(.appendEntries(AppendEntries(term: 3, prevLogIndex: prevIndex, prevLogTerm: prevTerm, entries: [], leaderCommit: 0, round: 1)), from: 2)
        let reply = node.appendReply()
        #expect(reply?.success == false)
        #expect(reply?.hintIndex == hintIndex && reply?.hintTerm == hintTerm, "hint \(reply.map { "\($0.hintIndex)/\($0.hintTerm)" } ?? "none")")
    }

    /// Thesis §9.6: a pre-candidate asks with the next term but changes no one's term.
    @Test func preVoteChangesNoTerm() {
        var candidate = ScriptedNode(id: 1, terms: [1], term: 5)
        candidate.fireTimer()
        #expect(candidate.raft.role == .preCandidate && candidate.raft.currentTerm == 5)
        let request = candidate.sent(.preVote)
        #expect(request.count == 2 && request.allSatisfy { $0.term == 6 })
        var voter = ScriptedNode(id: 2, terms: [1], term: 5)
        voter.receive(request[0], from: 1)
        #expect(voter.voteReply()?.granted == true)
        #expect(voter.raft.currentTerm == 5 && voter.storage.isEmpty, "a pre-vote changed the voter's term")
    }

    /// Thesis §9.6 with §4.2.3: a node that heard from a leader within the minimum election
    /// timeout refuses pre-votes and ignores votes; later it grants them.
    @Test func leaderContactBlocksVotes() {
        var node = ScriptedNode(id: 2, terms: [1], term: 1)
        node.receive(.heartbeat(Heartbeat(term: 1, commit: 0, round: 1)), from: 1)
        let ask = VoteRequest(term: 2, lastLogIndex: 1, lastLogTerm: 1, preVote: true)
        node.receive(.requestVote(ask), from: 3, after: .milliseconds(10))
        #expect(node.voteReply()?.granted == false, "granted a pre-vote while the leader is heard")
        node.receive(.requestVote(VoteRequest(term: 2, lastLogIndex: 1, lastLogTerm: 1, preVote: false)), from: 3)
        #expect(node.sent.isEmpty && node.raft.currentTerm == 1, "a vote request deposed a leader that is still heard")
        node.receive(.requestVote(ask), from: 3, after: .milliseconds(200))
        #expect(node.voteReply()?.granted == true, "pre-vote refused long after the leader went quiet")
    }

    /// A node that just (re)started cannot know when it last heard from a leader: with leader
    /// stickiness on it waits a minimum election timeout before voting (a lease may still run).
    @Test func freshNodeWaitsBeforeVoting() {
        let request = RaftMessage.requestVote(VoteRequest(term: 2, lastLogIndex: 1, lastLogTerm: 1, preVote: false))
        var node = ScriptedNode(id: 2, terms: [1], term: 1, startedAgo: .milliseconds(10))
        node.receive(request, from: 3)
        #expect(node.sent.isEmpty && node.raft.currentTerm == 1, "voted right after starting")
        node.receive(request, from: 3, after: .milliseconds(150))
        #expect(node.voteReply()?.granted == true)
        var options = RaftOptions()
        options.checkQuorum = false
        var unprotected = ScriptedNode(id: 2, options: options, terms: [1], term: 1, startedAgo: .milliseconds(10))
        unprotected.receive(request, from: 3)
        #expect(unprotected.voteReply()?.granted == true, "without stickiness a fresh node votes at once")
    }

    /// Without CheckQuorum (or leases) nothing protects the leader: the vote request's term is adopted.
    @Test func withoutStickinessHigherTermWins() {
        var options = RaftOptions()
        options.checkQuorum = false
        var node = ScriptedNode(id: 2, options: options, terms: [1], term: 1)
        node.receive(.heartbeat(Heartbeat(term: 1, commit: 0, round: 1)), from: 1)
        node.receive(.requestVote(VoteRequest(term: 2, lastLogIndex: 1, lastLogTerm: 1, preVote: false)), from: 3, after: .milliseconds(10))
        #expect(node.raft.currentTerm == 2 && node.voteReply()?.granted == true)
    }

    /// Thesis §6.2: a leader that hears from no majority for a minimum election timeout steps down.
    @Test func checkQuorumStepsDown() {
        var node = ScriptedNode(terms: [1], term: 1)
        node.elect()
        #expect(node.raft.role == .leader)
        let elected = node.now
        while node.raft.role == .leader, node.now < elected + .seconds(2) { node.fireTimer() }
        #expect(node.raft.role == .follower, "a leader that hears nobody kept leading")
        #expect(node.now - elected <= RaftOptions().electionTimeout.lowerBound * 2, "stepped down only after \(node.now - elected)")
        var options = RaftOptions()
        options.checkQuorum = false
        var unchecked = ScriptedNode(options: options, terms: [1], term: 1)
        unchecked.elect()
        let start = unchecked.now
        while unchecked.now < start + .seconds(2) { unchecked.fireTimer() }
        #expect(unchecked.raft.role == .leader, "without CheckQuorum a leader never steps down on its own")
    }

    /// A follower whose disk lost entries it had acknowledged (its log cut short) answers below
    /// what the leader counts as matched: the leader probes from what the follower has, instead
    /// of offering `match + 1` again forever (a loop found on real processes).
    @Test func aFollowerThatLostAcknowledgedEntriesIsProbedFromWhatItHas() {
        var node = ScriptedNode(terms: [1, 1], term: 1)
        node.elect()
        let term = node.raft.currentTerm
        node.receive(.appendReply(AppendReply(term: term, success: true, index: 3, hintIndex: 0, hintTerm: 0, round: 1)), from: 2)
        #expect(node.raft.commitIndex == 3)
        node.step(.client(Self.put))
        #expect(node.append(to: 2)?.prevLogIndex == 3, "replicating after the acknowledged index 3")
        // Node 2 restarted with entries 1 and 2 only: it rejects index 3 and says it has up to 2.
        node.receive(.appendReply(AppendReply(term: term, success: false, index: 3, hintIndex: 2, hintTerm: 1, round: 1)), from: 2)
        node.receive(.appendReply(AppendReply(term: term, success: false, index: 4, hintIndex: 2, hintTerm: 1, round: 1)), from: 2)
        #expect(node.append(to: 2)?.prevLogIndex == 2, "the leader probes from the follower's last entry")
        node.receive(.appendReply(AppendReply(term: term, success: true, index: 4, hintIndex: 0, hintTerm: 0, round: 1)), from: 2)
        #expect(node.raft.commitIndex == 4, "the follower caught up and the new entry commits")
    }

    /// §8: a follower answers clients with the leader it knows.
    @Test func followerRedirectsToLeader() {
        var node = ScriptedNode(id: 2, terms: [1], term: 1)
        node.step(.client(Self.put))
        #expect(node.replies.first?.status == .notLeader(hint: nil))
        node.receive(.heartbeat(Heartbeat(term: 1, commit: 0, round: 1)), from: 3)
        node.step(.client(Self.put))
        #expect(node.replies.first?.status == .notLeader(hint: NodeID(3)))
    }

    /// Thesis §6.4: a new leader answers ReadIndex reads only after committing an entry of its
    /// term and after a majority confirms a round that began after the read arrived.
    @Test func readIndexWaitsForTermCommitAndQuorum() {
        var node = ScriptedNode(terms: [1, 1], term: 1)
        node.elect()
        let term = node.raft.currentTerm
        let read = ClientRequest(client: ClientID(5), sequence: 1, command: .get(key: "x"))
        node.step(.client(read))
        #expect(node.replies.isEmpty)
        // Node 2 confirms the election round (1) and holds the old entries, not the no-op: the
        // next round starts, for the read.
        node.receive(.appendReply(AppendReply(term: term, success: true, index: 2, hintIndex: 0, hintTerm: 0, round: 1)), from: 2)
        let round = node.sent(.heartbeat).compactMap { if case .heartbeat(let h) = $0 { h.round } else { nil } }.first
        #expect(round == 2, "a read round should start once the previous one is confirmed")
        node.receive(.heartbeatReply(HeartbeatReply(term: term, round: round ?? 2)), from: 2)
        #expect(node.replies.isEmpty, "served a read before the leader committed an entry of its term")
        node.receive(.appendReply(AppendReply(term: term, success: true, index: 3, hintIndex: 0, hintTerm: 0, round: 2)), from: 2)
        #expect(node.raft.commitIndex == 3)
        #expect(node.replies.first?.status == .ok(.value(nil)))
    }

    /// Thesis §6.4.1: with a lease the leader answers at once, until the lease runs out.
    @Test func leaseReadsExpire() {
        var options = RaftOptions()
        options.read = .lease
        var node = ScriptedNode(options: options, terms: [1], term: 1)
        node.elect()
        let term = node.raft.currentTerm
        node.receive(.appendReply(AppendReply(term: term, success: true, index: 2, hintIndex: 0, hintTerm: 0, round: 1)), from: 2)
        let read = ClientRequest(client: ClientID(5), sequence: 1, command: .get(key: "x"))
        node.step(.client(read), after: .milliseconds(10))
        #expect(node.replies.count == 1, "a lease read waited")
        #expect(node.sent(.heartbeat).isEmpty, "a lease read needed no round")
        node.step(.client(ClientRequest(client: ClientID(5), sequence: 2, command: .get(key: "x"))), after: options.leaseDuration)
        #expect(node.replies.isEmpty, "served a lease read after the lease expired")
    }
}
