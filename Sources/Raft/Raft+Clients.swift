import ConsensusCore
import KVStore

/// Client requests, applying committed entries to the state machine, and replies (§8).
extension RaftState {
    mutating func handle(_ request: ClientRequest, _ now: Instant, _ out: inout Effects<Raft>) {
        if request.command.isRead, options.read != .log {
            guard options.read != .unsafeLocal else {
                out.reply(ClientReply(to: request, store.answer(read: request)))
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
        // Admission control (`maxUncommitted`): at the bound the proposal is dropped, unanswered.
        guard uncommittedProposals < options.maxUncommitted else { return }
        guard pendingWrites.insert(request) else { return }
        appendToLog(RaftEntry(term: currentTerm, stamp: now, request: request), &out)
        replicate(&out)
        if quorum == 1 { maybeCommit(now, &out) }
    }

    /// Entries this leader appended for clients in its term and has not committed: those after
    /// its no-op. Neither the no-op nor entries of earlier terms count — they are not proposals,
    /// and a new leader must never be kept from committing them.
    ///
    /// At `maxUncommitted` a new proposal is dropped, as etcd raft drops it (`ErrProposalDropped`),
    /// and its client retries later; a retry of a proposal already in the log is answered when it
    /// applies, as always. The leader does not answer "no effect" (`rejected`): that would be a
    /// claim about the request, not about this copy of it, and another copy may be on its way to
    /// a newer leader (a client retries at other nodes) or sit uncommitted in an older leader's
    /// log — the hunt found a refused append applied after all (seed 4273: a leader paused, a
    /// retry taken by its successor, then the queued copy refused by the resumed old leader).
    var uncommittedProposals: Int { log.lastIndex - max(commitIndex, termStart) }

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
            if role == .leader, pendingWrites.remove(request) { out.reply(ClientReply(to: request, status)) }
        }
    }
}
