import ConsensusCore

/// Clients: network endpoints pinned to a node, retrying under the same sequence number until their
/// deadline, recording every operation in the history.
extension Simulation {
    struct Client {
        enum Kind { case closed, open, manual }

        let id: ClientID
        let home: Int
        let kind: Kind
        /// Closed-loop clients draw their operations from their own stream.
        var source: OperationSource?
        var sequence: UInt64 = 0
        var operation: PendingOperation?
        /// Where the current operation's requests go: the home node, or where it was redirected.
        var target: Int
        /// Where writes start: the node a redirect last named (a client caching the leader).
        /// Reads always start at the client's own node, so read modes that serve locally do.
        var writeTarget: Int
        var generation: UInt64 = 0
    }

    struct PendingOperation {
        var historyIndex: Int
        var request: ClientRequest
        var deadline: Instant
        var nextAttempt: Instant
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
                clients[client].source = OperationSource(seed: config.seed, label: "c\(clients[client].id.rawValue)", workload: workload)
                let stagger = clients[client].source!.draw(think)
                scheduleWake(client, at: .zero + stagger)
            }
            if case .open(let rate) = workload.mode, rate > 0 {
                nodeSources.append(OperationSource(seed: config.seed, label: "n\(node + 1)", workload: workload))
                queue.schedule(.arrival(node: node), at: .zero + nodeSources[node].interArrival(rate: rate))
            }
        }
    }

    @discardableResult
    func addClient(home: Int, kind: Client.Kind) -> Int {
        clients.append(Client(id: ClientID(clients.count + 1), home: home, kind: kind, target: home, writeTarget: home))
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

    func invoke(_ command: Command, by client: Int) -> Int {
        clients[client].sequence += 1
        let request = ClientRequest(client: clients[client].id, sequence: clients[client].sequence, command: command)
        let index = history.count
        history.append(HistoryOperation(id: index + 1, client: clients[client].id, node: cluster[clients[client].home],
                                        command: command, invoke: now, complete: nil, outcome: .indeterminate))
        let workload = config.workload
        clients[client].target = command.isRead ? clients[client].home : clients[client].writeTarget
        clients[client].operation = PendingOperation(historyIndex: index, request: request, deadline: now + workload.timeout,
                                                     nextAttempt: now + workload.retryInterval)
        transmit(request, from: client)
        scheduleWake(client, at: min(now + workload.retryInterval, now + workload.timeout))
        return index
    }

    func transmit(_ request: ClientRequest, from client: Int) {
        counters.clientMessages += 1
        let target = clients[client].target
        let deliveries = network.transmitClient(client, home: clients[client].home, node: target, toNode: true, at: now, random: &networkRandom)
        if let first = deliveries.first { queue.schedule(.request(client: client, to: target, request), at: first) }
        if let second = deliveries.second { queue.schedule(.request(client: client, to: target, request), at: second) }
    }

    /// A node answers a client; the reply leaves when the node's step is done.
    func send(_ reply: ClientReply, from node: Int, at departure: Instant) {
        let client = reply.client.rawValue - 1
        guard clients.indices.contains(client) else { return }
        counters.clientMessages += 1
        let deliveries = network.transmitClient(client, home: clients[client].home, node: node, toNode: false, at: departure, random: &networkRandom)
        if let first = deliveries.first { output(.reply(from: node, client: client, reply), at: first) }
        if let second = deliveries.second { output(.reply(from: node, client: client, reply), at: second) }
    }

    func wake(_ client: Int) {
        guard let operation = clients[client].operation else {
            if clients[client].kind == .closed, workloadOpen { issueNext(client) }
            return
        }
        if now >= operation.deadline {
            complete(client, .indeterminate)
        } else if now >= operation.nextAttempt {
            retry(client)
        } else {
            scheduleWake(client, at: min(operation.nextAttempt, operation.deadline))
        }
    }

    /// Re-sends the same request (same sequence number, so it is applied at most once). After a
    /// silent attempt the client goes back to its own node: the leader it was sent to may be gone.
    func retry(_ client: Int) {
        guard var operation = clients[client].operation else { return }
        if !operation.answered {
            clients[client].target = clients[client].home
            clients[client].writeTarget = clients[client].home
        }
        operation.redirects = 0
        operation.answered = false
        operation.nextAttempt = now + config.workload.retryInterval
        clients[client].operation = operation
        transmit(operation.request, from: client)
        scheduleWake(client, at: min(operation.nextAttempt, operation.deadline))
    }

    func issueNext(_ client: Int) {
        guard var source = clients[client].source else { return }
        let command = source.next()
        clients[client].source = source
        _ = invoke(command, by: client)
    }

    func receive(_ reply: ClientReply, from node: Int, client: Int) {
        guard var operation = clients[client].operation, reply.sequence == operation.request.sequence else { return }
        switch reply.status {
        case .ok(let result):
            if case .casMismatch = result { complete(client, .fail(.casMismatch), result: result) } else { complete(client, .ok(result), result: result) }
        case .rejected(.superseded):
            return
        case .rejected:
            complete(client, .fail(.refused))
        case .notLeader(let hint):
            operation.redirects += 1
            operation.answered = true
            if let hint, hint.index != node, operation.redirects <= 3 {
                // Follow the redirect at once, as a Raft client caching the leader does.
                clients[client].target = hint.index
                clients[client].writeTarget = hint.index
                operation.answered = false
                clients[client].operation = operation
                transmit(operation.request, from: client)
            } else {
                // No better node known (an election is running): try again shortly.
                clients[client].target = hint?.index ?? clients[client].home
                operation.nextAttempt = now + config.workload.redirectBackoff
                operation.redirects = 1
                clients[client].operation = operation
                scheduleWake(client, at: min(operation.nextAttempt, operation.deadline))
            }
        }
    }

    func complete(_ client: Int, _ outcome: Outcome, result: CommandResult? = nil) {
        guard let operation = clients[client].operation else { return }
        history[operation.historyIndex].outcome = outcome
        history[operation.historyIndex].complete = outcome == .indeterminate ? nil : now
        clients[client].operation = nil
        if let result { observe(operation.request.command, result, by: client) }
        switch clients[client].kind {
        case .closed:
            guard workloadOpen, case .closed(let think) = config.workload.mode else { return }
            let pause = clients[client].source!.draw(think)
            scheduleWake(client, at: now + pause)
        case .open, .manual:
            clients[client].generation &+= 1
        }
    }

    func observe(_ command: Command, _ result: CommandResult, by client: Int) {
        switch clients[client].kind {
        case .closed: clients[client].source?.observe(command, result)
        case .open: nodeSources[clients[client].home].observe(command, result)
        case .manual: break
        }
    }

    /// Open loop: an operation arrives at `node` whether or not earlier ones were answered. It goes
    /// to an idle client of that node, or to a new one.
    func arrival(at node: Int) {
        guard workloadOpen, case .open(let rate) = config.workload.mode else { return }
        let command = nodeSources[node].next()
        let idle = clients.indices.first { clients[$0].kind == .open && clients[$0].home == node && clients[$0].operation == nil }
        let client = idle ?? addClient(home: node, kind: .open)
        _ = invoke(command, by: client)
        queue.schedule(.arrival(node: node), at: now + nodeSources[node].interArrival(rate: rate))
    }
}
