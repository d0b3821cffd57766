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
        guard pendingWrites[request.client] != request.sequence else { return }
        appendToLog(RaftEntry(term: currentTerm, request: request), &out)
        pendingWrites[request.client] = request.sequence
        replicate(&out)
        if quorum == 1 { maybeCommit(now, &out) }
    }

    /// A follower or candidate sends the client to the leader it knows (§8), if any.
    func redirect(_ request: ClientRequest, _ out: inout Effects<Raft>) {
        out.reply(ClientReply(to: request, .notLeader(hint: leader)))
    }

    /// Applies committed entries in index order; the leader answers the clients it appended them
    /// for, after the entry is applied.
    mutating func applyCommitted(_ out: inout Effects<Raft>) {
        while lastApplied < commitIndex {
            lastApplied += 1
            guard let request = log[lastApplied].request else { continue }
            let status = store.apply(request)
            if role == .leader, pendingWrites[request.client] == request.sequence {
                pendingWrites[request.client] = nil
                out.reply(ClientReply(to: request, status))
            }
        }
    }
}
