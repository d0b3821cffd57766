import ConsensusCore

/// The participant's side: votes, learning decisions, answering state requests, and the timers and
/// injected faults the protocols act on.
extension CommitCore {
    /// A vote request (2PC PREPARE, 3PC CANCOMMIT), named `phase` for injected rejections. YES locks
    /// the key and is logged before it leaves, so a participant that crashes after voting YES still
    /// holds the lock when it comes back; `timer` is when it stops waiting for what comes next. NO
    /// needs no log: until it has voted YES a participant may abort on its own.
    package mutating func vote(on transaction: TransactionID, _ request: ClientRequest, phase: String, at now: Instant, timer: Instant,
                              into out: inout Out) {
        let coordinator = transaction.coordinator
        // A repeated request gets the same answer.
        if let decision = decisions[transaction] {
            send(.vote(transaction, yes: decision), to: coordinator, into: &out)
            return
        }
        if active[transaction] != nil || refused.contains(transaction) {
            send(.vote(transaction, yes: active[transaction] != nil), to: coordinator, into: &out)
            return
        }
        if consumeRejection(phase, transaction, into: &out) || locks.holder(of: request.command.key) != nil {
            refused.insert(transaction)
            send(.vote(transaction, yes: false), to: coordinator, into: &out)
            return
        }
        persist(.prepared(transaction, request, at: now), into: &out)
        locks.acquire(request.command.key, for: transaction)
        active[transaction] = Transaction(id: transaction, request: request, state: .voted, timer: timer)
        out.emit(.prepared(transaction: transaction.rawValue, key: request.command.key))
        send(.vote(transaction, yes: true), to: coordinator, into: &out)
    }

    /// 3PC: a participant accepts PreCommit; logged before the acknowledgement leaves.
    package mutating func enterPreCommit(_ transaction: TransactionID, timer: Instant, into out: inout Out) {
        guard active[transaction]?.state == .voted else { return }
        persist(.preCommitted(transaction), into: &out)
        active[transaction]!.state = .preCommitted
        active[transaction]!.timer = timer
    }

    /// Applies a decision this node learned: from the decider, from another node's state report,
    /// or from its own timeout rule (3PC). `ackTo` is acknowledged whether or not the decision was
    /// news. A decision that contradicts the one already applied here is a divergence; it is kept
    /// out of the replica and reported as a safety violation.
    package mutating func learn(_ transaction: TransactionID, commit: Bool, ackTo: NodeID?, into out: inout Out) {
        if let known = decisions[transaction] {
            if known != commit {
                out.emit(.violation(SafetyViolation(.conflictingDecision, "\(transaction): \(known ? "committed" : "aborted") here, told to \(commit ? "commit" : "abort")")))
            }
        } else if let undecided = active[transaction] {
            persist(.decided(transaction, commit: commit), into: &out)
            apply(undecided, commit: commit, into: &out)
            active[transaction] = nil
        } else if commit {
            // Committing needs this node's logged YES: only a node that lost its log (`fsync: false`) gets here.
            out.emit(.note(kind: "unknown-commit", detail: "\(transaction): told to commit a transaction this node has no record of"))
        } else {
            decisions[transaction] = false
            refused.remove(transaction)
            out.emit(.decided(transaction: transaction.rawValue, commit: false))
        }
        if let ackTo, ackTo != id { send(.ack(transaction), to: ackTo, into: &out) }
    }

    /// Answers a state request. A node that has not voted YES may still abort, and does so on the
    /// spot (logged, so that it never votes YES later): its answer is then a decision, which is
    /// what lets 2PC's cooperative termination and Skeen's protocol finish without the coordinator.
    package mutating func report(_ transaction: TransactionID, to node: NodeID, into out: inout Out) {
        let state: TransactionState
        if let decision = decisions[transaction] {
            state = TransactionState(decision: decision)
        } else if let current = active[transaction] {
            state = current.state
        } else {
            persist(.decided(transaction, commit: false), into: &out)
            learn(transaction, commit: false, ackTo: nil, into: &out)
            state = .aborted
        }
        send(.stateReport(transaction, state), to: node, into: &out)
    }

    /// Asks `nodes` what they know of `transaction`.
    package func ask(_ transaction: TransactionID, _ nodes: [NodeID], into out: inout Out) {
        for node in nodes { send(.stateRequest(transaction), to: node, into: &out) }
    }

    /// Arms the transaction's own timer.
    package mutating func setTimer(_ transaction: TransactionID, at time: Instant) {
        active[transaction]?.timer = time
    }

    /// Marks a transaction rebuilt by a restart as taken up again by the protocol.
    package mutating func resume(_ transaction: TransactionID) {
        active[transaction]?.recovered = false
    }

    // MARK: Injected faults

    /// Arms the scenario's `reject` fault: the next `count` requests of `phase` (any of `phases`
    /// when nil) fail here. A phase the protocol does not have is reported and ignored, so one
    /// scenario can name the phases of 2PC and 3PC side by side. Only phases asked by another node
    /// fail: a coordinator's own vote is not a message.
    package mutating func inject(_ fault: InjectedFault, phases: [String], into out: inout Out) {
        switch fault {
        case .reject(let phase, let count):
            if let phase, !phases.contains(phase) {
                out.emit(.note(kind: "reject-ignored", detail: "\(Backend.protocolName) has no phase \(phase) (it has \(phases.joined(separator: ", ")))"))
                return
            }
            rejections.append(Rejection(phase: phase, remaining: count))
        }
    }

    /// Whether an armed rejection fails this request of `phase`; consumes one if so.
    package mutating func consumeRejection(_ phase: String, _ transaction: TransactionID, into out: inout Out) -> Bool {
        guard let index = rejections.firstIndex(where: { $0.phase == nil || $0.phase == phase }) else { return false }
        rejections[index].remaining -= 1
        if rejections[index].remaining == 0 { rejections.remove(at: index) }
        out.emit(.note(kind: "reject", detail: "\(transaction): fails \(phase) (injected)"))
        return true
    }
}
