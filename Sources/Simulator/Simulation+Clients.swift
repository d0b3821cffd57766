import ConsensusCore

/// Clients: network endpoints pinned to a node, retrying under the same sequence number until their
/// deadline, recording every operation in the history.
extension Simulation {
    struct Client {
        /// `retired`: the store expired the client's session; a new client (a new id, a new
        /// session) carries on with its work.
        enum Kind { case closed, open, manual, retired }

        let id: ClientID
        let home: Int
        var kind: Kind
        /// Closed-loop clients draw their operations from their own stream.
        var source: OperationSource?
        var sequence: UInt64 = 0
        /// Operations in flight, in invocation order: one at most, except for open-loop clients
        /// of a workload with `outstanding` above 1.
        var operations: [PendingOperation] = []
        /// Which of its requests the client is done with: the watermark its requests carry.
        var watermark = SessionWatermark()
        /// One of the client's writes was answered `.ok`: the store holds its session
        /// (`ClientRequest.established`).
        var established = false
        /// Where writes start: the node a redirect last named (a client caching the leader).
        /// Reads always start at the client's own node, so read modes that serve locally do.
        var writeTarget: Int
        var generation: UInt64 = 0

        /// When the client next has something to do for an operation in flight: re-send it or give up.
        var nextWake: Instant? {
            var earliest: Instant?
            for operation in operations {
                let due = min(operation.nextAttempt, operation.deadline)
                if earliest.map({ due < $0 }) ?? true { earliest = due }
            }
            return earliest
        }
    }

    struct PendingOperation {
        var historyIndex: Int
        var request: ClientRequest
        var deadline: Instant
        var nextAttempt: Instant
        /// Where its requests go: the home node, or where it was redirected.
        var target: Int
        var redirects = 0
        /// Whether the latest attempt got any answer.
        var answered = false
    }

    func startWorkload() {
        let workload = config.workload
        for node in 0..<config.nodes {
            for _ in 0..<workload.clientsPerNode {
                guard case .closed(let think) = workload.mode else {
                    addClient(home: node, kind: .open)
                    continue
                }
                let client = addClient(home: node, kind: .closed)
                clients[client].source = OperationSource(client: clients[client].id, seed: config.seed, workload: workload)
                let stagger = clients[client].source!.draw(think)
                scheduleWake(client, at: .zero + stagger)
            }
            if case .open(let rate) = workload.mode, rate > 0 {
                nodeSources.append(OperationSource(arrivalsAt: node, seed: config.seed, workload: workload))
                queue.schedule(.arrival(node: node), at: .zero + nodeSources[node].interArrival(rate: rate))
            }
        }
    }

    @discardableResult
    func addClient(home: Int, kind: Client.Kind) -> Int {
        clients.append(Client(id: ClientID(config.firstClientID + clients.count), home: home, kind: kind, writeTarget: home))
        return clients.count - 1
    }

    /// Issues `command` from a fresh client pinned to `node`, outside the workload (for tests and
    /// scripted scenarios). Returns the operation's position in `history`.
    @discardableResult
    public func submit(_ command: Command, via node: NodeID) -> Int {
        let client = addClient(home: node.index, kind: .manual)
        return invoke(command, by: client)
    }

    func scheduleWake(_ client: Int, at time: Instant) {
        clients[client].generation &+= 1
        queue.schedule(.clientWake(client: client, generation: clients[client].generation), at: time)
    }

    /// Starts an operation: a request carrying the client's watermark and whether the store knows
    /// it, sent now and re-sent every `retry` until answered or `timeout`.
    func invoke(_ command: Command, by client: Int) -> Int {
        clients[client].sequence += 1
        let request = ClientRequest(client: clients[client].id, sequence: clients[client].sequence, command: command,
                                    ackedThrough: clients[client].watermark.finishedThrough, established: clients[client].established)
        let index = history.count
        history.append(HistoryOperation(id: index + 1, client: clients[client].id, node: cluster[clients[client].home],
                                        command: command, invoke: now, complete: nil, outcome: .indeterminate))
        let workload = config.workload
        let target = command.isRead ? clients[client].home : clients[client].writeTarget
        clients[client].operations.append(PendingOperation(historyIndex: index, request: request, deadline: now + workload.timeout,
                                                           nextAttempt: now + workload.retryInterval, target: target))
        transmit(request, to: target, from: client)
        scheduleWake(client, at: clients[client].nextWake!)
        return index
    }

    func transmit(_ request: ClientRequest, to target: Int, from client: Int) {
        counters.clientMessages += 1
        let deliveries = network.transmitClient(client, home: clients[client].home, node: target, toNode: true, at: now, random: &networkRandom)
        if let first = deliveries.first { queue.schedule(.request(client: client, to: target, request), at: first) }
        if let second = deliveries.second { queue.schedule(.request(client: client, to: target, request), at: second) }
    }

    /// A node answers a client; the reply leaves when the node's step is done.
    func send(_ reply: ClientReply, from node: Int, at departure: Instant) {
        let client = reply.client.rawValue - config.firstClientID
        guard clients.indices.contains(client) else { return }
        counters.clientMessages += 1
        let deliveries = network.transmitClient(client, home: clients[client].home, node: node, toNode: false, at: departure, random: &networkRandom)
        if let first = deliveries.first { output(.reply(from: node, client: client, reply), at: first) }
        if let second = deliveries.second { output(.reply(from: node, client: client, reply), at: second) }
    }

    /// Gives up on the operations past their deadline (indeterminate), re-sends those due, and
    /// sleeps until the next is due; a closed-loop client without one issues its next operation.
    func wake(_ client: Int) {
        guard !clients[client].operations.isEmpty else {
            if clients[client].kind == .closed, workloadOpen { issueNext(client) }
            return
        }
        var position = 0
        while position < clients[client].operations.count {
            let operation = clients[client].operations[position]
            if now >= operation.deadline {
                complete(client, position, .indeterminate)
                continue
            }
            if now >= operation.nextAttempt { retry(client, position) }
            position += 1
        }
        if let next = clients[client].nextWake { scheduleWake(client, at: next) }
    }

    /// Re-sends the same request (same sequence number, so it is applied at most once). After a
    /// silent attempt the client goes back to its own node: the leader it was sent to may be gone.
    func retry(_ client: Int, _ position: Int) {
        var operation = clients[client].operations[position]
        if !operation.answered {
            operation.target = clients[client].home
            clients[client].writeTarget = clients[client].home
        }
        operation.redirects = 0
        operation.answered = false
        operation.nextAttempt = now + config.workload.retryInterval
        clients[client].operations[position] = operation
        transmit(operation.request, to: operation.target, from: client)
    }

    func issueNext(_ client: Int) {
        guard var source = clients[client].source else { return }
        let command = source.next()
        clients[client].source = source
        _ = invoke(command, by: client)
    }

    func receive(_ reply: ClientReply, from node: Int, client: Int) {
        guard let position = clients[client].operations.firstIndex(where: { $0.request.sequence == reply.sequence }) else { return }
        var operation = clients[client].operations[position]
        switch reply.status {
        case .ok(let result):
            if !operation.request.command.isRead { clients[client].established = true }
            if case .casMismatch = result { complete(client, position, .fail(.casMismatch), result: result) } else { complete(client, position, .ok(result), result: result) }
        case .rejected(.superseded):
            return
        case .rejected(.sessionExpired):
            renewSession(client)
        case .rejected:
            complete(client, position, .fail(.refused))
        case .notLeader(let hint):
            operation.redirects += 1
            operation.answered = true
            if let hint, hint.index != node, operation.redirects <= 3 {
                // Follow the redirect at once, as a Raft client caching the leader does.
                operation.target = hint.index
                clients[client].writeTarget = hint.index
                operation.answered = false
                clients[client].operations[position] = operation
                transmit(operation.request, to: operation.target, from: client)
            } else {
                // No better node known (an election is running): try again shortly.
                operation.target = hint?.index ?? clients[client].home
                operation.nextAttempt = now + config.workload.redirectBackoff
                operation.redirects = 1
                clients[client].operations[position] = operation
                scheduleWake(client, at: clients[client].nextWake!)
            }
        }
    }

    /// Records the outcome of the operation at `position` and takes it out of flight.
    func complete(_ client: Int, _ position: Int, _ outcome: Outcome, result: CommandResult? = nil) {
        let operation = clients[client].operations.remove(at: position)
        history[operation.historyIndex].outcome = outcome
        history[operation.historyIndex].complete = outcome == .indeterminate ? nil : now
        clients[client].watermark.finish(operation.request.sequence)
        if let result { observe(operation.request.command, result, by: client) }
        switch clients[client].kind {
        case .closed:
            guard workloadOpen, case .closed(let think) = config.workload.mode else { return }
            let pause = clients[client].source!.draw(think)
            scheduleWake(client, at: now + pause)
        case .open, .manual, .retired:
            if let next = clients[client].nextWake { scheduleWake(client, at: next) } else { clients[client].generation &+= 1 }
        }
    }

    /// The store expired the client's session (`sessionExpired`): every operation the client has
    /// in flight stays indeterminate in the history — any of them may have been applied before the
    /// session went — and the client never uses its id again. A closed-loop client's work goes on
    /// under a new id, as a new session, after its think time; open-loop arrivals simply go to
    /// other clients.
    func renewSession(_ client: Int) {
        clients[client].operations.removeAll()
        clients[client].generation &+= 1
        let kind = clients[client].kind
        clients[client].kind = .retired
        guard kind == .closed else { return }
        let successor = addClient(home: clients[client].home, kind: .closed)
        clients[successor].source = clients[client].source
        clients[successor].writeTarget = clients[client].writeTarget
        clients[client].source = nil
        guard workloadOpen, case .closed(let think) = config.workload.mode else { return }
        scheduleWake(successor, at: now + clients[successor].source!.draw(think))
    }

    func observe(_ command: Command, _ result: CommandResult, by client: Int) {
        switch clients[client].kind {
        case .closed: clients[client].source?.observe(command, result)
        case .open: nodeSources[clients[client].home].observe(command, result)
        case .manual, .retired: break
        }
    }

    /// Open loop: an operation arrives at `node` whether or not earlier ones were answered. It goes
    /// to a client of that node with fewer than `outstanding` operations in flight, or to a new one.
    func arrival(at node: Int) {
        guard workloadOpen, case .open(let rate) = config.workload.mode else { return }
        let command = nodeSources[node].next()
        let room = clients.indices.first {
            clients[$0].kind == .open && clients[$0].home == node && clients[$0].operations.count < config.workload.outstanding
        }
        let client = room ?? addClient(home: node, kind: .open)
        _ = invoke(command, by: client)
        queue.schedule(.arrival(node: node), at: now + nodeSources[node].interArrival(rate: rate))
    }
}
