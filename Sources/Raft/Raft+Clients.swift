import ConsensusCore
import KVStore

/// Client requests, applying committed entries to the state machine, and replies (§8).
extension RaftState {
    mutating func handle(_ request: ClientRequest, _ now: Instant, _ out: inout Effects<Raft>) {
        if request.command.isRead, options.read != .log {
            guard options.read != .unsafeLocal else {
                out.reply(ClientReply(to: request, .ok(.value(store.read(request.command.key)))))
                return
            }
            guard role == .leader else { return redirect(request, &out) }
            read(request, now, &out)
            return
        }
        guard role == .leader else { return redirect(request, &out) }
        // Exactly-once (§8): a request already applied is answered from its session; one already
        // in the log is answered when it applies.
        if let cached = store.cachedReply(for: request) {
            out.reply(ClientReply(to: request, cached))
            return
        }
        if refusedProposals.contains(request) || (uncommittedProposals >= options.maxUncommitted && !pendingWrites.contains(request)) {
            return refuseProposal(request, &out)
        }
        guard pendingWrites.insert(request) else { return }
        appendToLog(RaftEntry(term: currentTerm, stamp: now, request: request), &out)
        replicate(&out)
        if quorum == 1 { maybeCommit(now, &out) }
    }

    /// Entries this leader appended for clients in its term and has not committed: those after
    /// its no-op. Neither the no-op nor entries of earlier terms count — they are not proposals,
    /// and a new leader must never be kept from committing them.
    var uncommittedProposals: Int { log.lastIndex - max(commitIndex, termStart) }

    /// Admission control at the bound (etcd raft drops the proposal with `ErrProposalDropped`):
    /// the command is refused, definitely without effect, and the client tries again later; the
    /// node remembers it, so no later copy of it gets in (`RefusedProposals`). A refusal is
    /// certain only once this term's no-op has committed, and with it every entry of earlier
    /// terms: before, the log may hold an earlier leader's copy of the request, uncommitted, that
    /// may yet commit. Then the leader answers nothing, and the client's retry finds the request
    /// applied or the leader with room.
    mutating func refuseProposal(_ request: ClientRequest, _ out: inout Effects<Raft>) {
        guard commitIndex >= termStart else { return }
        refusedProposals.insert(request)
        out.reply(ClientReply(to: request, .rejected(.unavailable)))
    }

    /// A follower or candidate sends the client to the leader it knows (§8), if any.
    func redirect(_ request: ClientRequest, _ out: inout Effects<Raft>) {
        out.reply(ClientReply(to: request, .notLeader(hint: leader)))
    }

    /// Applies committed entries in index order, each at its leader's stamp; the leader answers
    /// the clients it appended them for, after the entry is applied.
    mutating func applyCommitted(_ out: inout Effects<Raft>) {
        while lastApplied < commitIndex {
            lastApplied += 1
            let entry = log[lastApplied]
            guard let request = entry.request else {
                store.advanceClock(to: entry.stamp)
                continue
            }
            let status = store.apply(request, at: entry.stamp)
            refusedProposals.forget(request.client, through: request.ackedThrough)
            if role == .leader, pendingWrites.remove(request) { out.reply(ClientReply(to: request, status)) }
        }
    }
}
