import ConsensusCore
import Runtime

/// Requests and answers between the node's clients, its backend and its peers (`RequestRouter`
/// holds the rules).
extension NodeServer {
    /// An answer from `source`: the node's own backend, or a peer a request was forwarded to.
    func route(_ reply: ClientReply, from source: NodeID) {
        perform(router.route(reply, from: source, at: MonotonicClock.now()))
    }

    /// A client request arrived on `connection`.
    func accept(_ request: ClientRequest, connection: UInt64) {
        router.accept(request, connection: connection, at: MonotonicClock.now())
        armRouterTimer()
        submit(.client(request))
    }

    /// Peer `peer` forwarded a client's request.
    func accept(_ request: ClientRequest, forwardedBy peer: NodeID) {
        router.accept(request, peer: peer, at: MonotonicClock.now())
        armRouterTimer()
        submit(.client(request))
    }

    func perform(_ actions: [RequestRouter.Action]) {
        for action in actions {
            switch action {
            case .deliver(let reply, let connection):
                clients[connection]?.deliver(reply)
            case .abandon(let key, let connection):
                clients[connection]?.abandon(key)
            case .answer(let reply, let peer):
                _ = ship(WireFrame(protocolName: Backend.protocolName, content: .clientReply, reply), to: peer)
            case .submit(let request, let node) where node == id:
                submit(.client(request))
            case .submit(let request, let node):
                forward(request, to: node)
            }
        }
        armRouterTimer()
    }

    /// Sends a client's request to the node that leads; one that cannot leave (the link is down)
    /// is refused at once, as if that node had no leader to offer, and retried later.
    private func forward(_ request: ClientRequest, to node: NodeID) {
        let outcome = ship(WireFrame(protocolName: Backend.protocolName, content: .clientRequest, request), to: node)
        guard outcome != .queued else { return }
        route(ClientReply(to: request, .notLeader(hint: nil)), from: node)
    }

    /// Keeps one loop timer at the router's next retry or deadline, at most every few
    /// milliseconds: under load a deadline falls due at almost every turn, and seconds-long
    /// timeouts and retries after tens of milliseconds need no finer grain.
    func armRouterTimer() {
        guard isRunning, let next = router.nextWakeUp else { return }
        let at = max(next, MonotonicClock.now() + .milliseconds(5))
        if let routerTimer, routerTimer.deadline <= at { return }
        if let routerTimer { loop.cancel(routerTimer.timer) }
        routerTimer = (at, loop.schedule(at: at) { [weak self] in self?.routerDue() })
    }

    private func routerDue() {
        routerTimer = nil
        guard isRunning else { return }
        perform(router.due(at: MonotonicClock.now()))
    }
}
