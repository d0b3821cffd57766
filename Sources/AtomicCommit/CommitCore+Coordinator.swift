import ConsensusCore
import KVStore

/// How a coordinator's round stands after an answer.
package enum RoundProgress: Hashable, Sendable {
    /// Some nodes have not answered yet.
    case waiting
    /// Every node answered yes.
    case complete
    /// A node answered no: the transaction must abort.
    case refused
    /// No such round is running here (a late or repeated answer).
    case stale
}

/// The coordinator's side: client requests, the write-all rounds, and the decision.
extension CommitCore {
    /// A client request at this node. A read is served from the local replica (or parked while an
    /// undecided transaction holds its key). A write starts a transaction coordinated here, unless
    /// it repeats a request already started (exactly-once), its key is locked here (no-wait: the
    /// write aborts at once), or it is a compare-and-set that does not match (answered like a read).
    /// Returns the transaction started, if any.
    package mutating func submit(_ request: ClientRequest, at now: Instant, into out: inout Out) -> TransactionID? {
        let key = request.command.key
        if request.command.isRead {
            if locks.holder(of: key) != nil {
                locks.park(request)
            } else {
                out.reply(ClientReply(to: request, .ok(.value(store.read(key)))))
            }
            return nil
        }
        switch clients.admit(request, at: now) {
        case .new: break
        case .inProgress: return nil
        case .answered(let status):
            out.reply(ClientReply(to: request, status))
            return nil
        case .superseded:
            out.reply(ClientReply(to: request, .rejected(.superseded)))
            return nil
        case .expired:
            out.reply(ClientReply(to: request, .rejected(.sessionExpired)))
            return nil
        }
        if locks.holder(of: key) != nil {
            refuse(request, .rejected(.aborted), into: &out)
            return nil
        }
        // With the key unlocked here, this replica has applied every committed write to it (each
        // needed this node's YES, and this node kept the lock until it applied it): a mismatch is final.
        if case .cas(_, let expected, _) = request.command, store.read(key) != expected {
            refuse(request, .ok(.casMismatch(current: store.read(key))), into: &out)
            return nil
        }
        let transaction = TransactionID(coordinator: id, counter: nextCounter)
        nextCounter += 1
        persist(.prepared(transaction, request, at: now), into: &out)
        locks.acquire(key, for: transaction)
        clients.start(request, as: transaction)
        out.emit(.coordinating(transaction: transaction.rawValue))
        var started = Transaction<Backend.Message>(id: transaction, request: request, state: .voted)
        started.round = broadcast(.init(.voteRequest(transaction, request)), expires: now + timing.voteTimeout, at: now, into: &out)
        active[transaction] = started
        return transaction
    }

    private mutating func refuse(_ request: ClientRequest, _ status: ReplyStatus, into out: inout Out) {
        clients.answer(request, status)
        out.reply(ClientReply(to: request, status))
    }

    /// Whether the round of `transaction` has every answer (at once in a one-node cluster).
    package func roundComplete(_ transaction: TransactionID) -> Bool {
        active[transaction]?.round?.pending.isEmpty ?? false
    }

    /// Sends `message` to every peer and opens the round that waits for their answers.
    private func broadcast(_ message: Backend.Message, expires: Instant?, at now: Instant, into out: inout Out) -> Round<Backend.Message> {
        for peer in peers { out.send(message, to: peer) }
        return Round(message: message, pending: peers, expires: expires, resendAt: now + timing.retransmit, interval: timing.retransmit)
    }

    /// Starts another round of a transaction coordinated here (3PC's PreCommit), moving its state
    /// to `state`; returns whether the round is already complete.
    package mutating func startRound(_ transaction: TransactionID, state: TransactionState, message: Backend.Message,
                                    expires: Instant, at now: Instant, into out: inout Out) -> Bool {
        guard active[transaction] != nil else { return false }
        active[transaction]!.state = state
        active[transaction]!.round = broadcast(message, expires: expires, at: now, into: &out)
        return roundComplete(transaction)
    }

    /// A participant's answer to the round that leaves the transaction in `state` (votes: `.voted`;
    /// 3PC's PreCommit acknowledgements: `.preCommitted`).
    package mutating func recordAnswer(_ transaction: TransactionID, from node: NodeID, yes: Bool, in state: TransactionState,
                                      into out: inout Out) -> RoundProgress {
        guard transaction.coordinator == id, let current = active[transaction], current.state == state, current.round != nil else {
            // A YES that arrives after the decision comes from a participant that may be in doubt
            // (a late or repeated vote request locked the key again): tell it the outcome.
            if yes, let decision = decisions[transaction], active[transaction]?.round?.pending.contains(node) != true {
                send(.decision(transaction, commit: decision), to: node, into: &out)
            }
            return .stale
        }
        guard yes else { return .refused }
        active[transaction]!.round!.answered(by: node)
        return roundComplete(transaction) ? .complete : .waiting
    }

    /// Decides `transaction` here, as its coordinator or as the node a termination protocol
    /// elected. The decision is logged before anyone can learn it (the driver syncs before sending),
    /// applied here, answered to the client, and sent to every other node until each acknowledges
    /// it — an abort only once unless `abortsAcknowledged`.
    package mutating func decide(_ transaction: TransactionID, commit: Bool, at now: Instant, into out: inout Out) {
        guard let current = active[transaction], decisions[transaction] == nil else { return }
        persist(.decided(transaction, commit: commit), into: &out)
        apply(current, commit: commit, into: &out)
        active[transaction]!.state = TransactionState(decision: commit)
        active[transaction]!.timer = nil
        let decision = Backend.Message(.decision(transaction, commit: commit))
        if commit || abortsAcknowledged, !peers.isEmpty {
            active[transaction]!.round = broadcast(decision, expires: nil, at: now, into: &out)
        } else {
            for peer in peers { out.send(decision, to: peer) }
            end(transaction, into: &out)
        }
    }

    /// A node acknowledged the decision.
    package mutating func recordAck(_ transaction: TransactionID, from node: NodeID, into out: inout Out) {
        guard let current = active[transaction], current.state.decision != nil, current.round != nil else { return }
        active[transaction]!.round!.answered(by: node)
        if roundComplete(transaction) { end(transaction, into: &out) }
    }

    private mutating func end(_ transaction: TransactionID, into out: inout Out) {
        persist(.ended(transaction), into: &out)
        active[transaction] = nil
    }

    /// Re-sends every round's message to the nodes that have not answered, aborts the transactions
    /// whose round ran out of time (a missing vote or PreCommit acknowledgement), and returns the
    /// transactions whose own timer fired, in id order, for the protocol to act on.
    package mutating func expire(at now: Instant, into out: inout Out) -> [TransactionID] {
        var due: [TransactionID] = []
        for transaction in active.values {
            if let deadline = transaction.deadline, deadline <= now { due.append(transaction.id) }
        }
        due.sort()
        var fired: [TransactionID] = []
        for transaction in due {
            guard let current = active[transaction] else { continue }
            if let round = current.round {
                if let expires = round.expires, expires <= now {
                    // Not an event: under a partition every write times out, and the aborts already
                    // show in the history as refused operations.
                    decide(transaction, commit: false, at: now, into: &out)
                    continue
                } else if round.resendAt <= now {
                    for node in round.pending { out.send(round.message, to: node) }
                    active[transaction]!.round!.resent(at: now, first: timing.retransmit)
                }
            }
            if let timer = current.timer, timer <= now {
                active[transaction]!.timer = nil
                fired.append(transaction)
            }
        }
        return fired
    }
}
