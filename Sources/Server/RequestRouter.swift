import ConsensusCore

/// Where each client request a node took in came from, and what becomes of each answer: pure
/// bookkeeping, so that the rules are tested without sockets.
///
/// **Any node accepts any request.** A request comes from one of the node's client connections or
/// from a peer that forwarded it. The node steps it; the answer goes back where the request came
/// from. A peer gets every answer, refusals included: the node that took the request from the
/// client decides what to do next, so forwarding never needs more than one hop of state.
///
/// **Refusals.** When the answer to a client's request is "not the leader" with a hint, the
/// request is forwarded to the hinted node (`.submit`), at most `maximumHops` times in a row, so
/// two nodes with stale hints cannot bounce it forever. Without a usable hint (an election is
/// under way, or the hops are spent) the node steps it again after `retryInterval`. A peer that
/// forwarded requests were sent to disconnects: they are retried the same way, under the same
/// client id and sequence number, which the store applies at most once.
///
/// **Timeout.** `timeout` after a request arrived, its client is answered by the node itself: with
/// the latest refusal (the cluster had no leader to offer: the RESP mapping's `CLUSTERDOWN`), or,
/// when the request was last seen in a leader's hands, that the outcome is unknown. A client never
/// waits longer, whatever happens to the cluster.
struct RequestRouter {
    struct Key: Hashable {
        var client: ClientID
        var sequence: UInt64

        init(_ client: ClientID, _ sequence: UInt64) {
            self.client = client
            self.sequence = sequence
        }
    }

    enum Action: Equatable {
        /// Hand the answer to a client connection of this node.
        case deliver(ClientReply, connection: UInt64)
        /// Tell a client connection that no answer came in time: the request may or may not have
        /// taken effect.
        case abandon(Key, connection: UInt64)
        /// Send the answer to the peer that forwarded the request.
        case answer(ClientReply, peer: NodeID)
        /// Step the request on `node`: this node, or a forward to a peer.
        case submit(ClientRequest, to: NodeID)
    }

    private struct Pending {
        var request: ClientRequest
        var connections: [UInt64] = []
        var peers: [NodeID] = []
        var deadline: Instant
        /// Forwards since the request was last stepped here.
        var hops = 0
        /// The peer the request was last forwarded to, while its answer is awaited.
        var forwardedTo: NodeID?
        /// The "not the leader" that answered the latest hand-off of the request, if it did: given
        /// to the client at the deadline, since the request took no effect. Cleared whenever the
        /// request is handed to a node again, which may apply it: then the client hears that the
        /// outcome is unknown.
        var refusal: ClientReply?
        var retryQueued = false
    }

    let node: NodeID
    let timeout: TimeSpan
    let retryInterval: TimeSpan
    let maximumHops: Int
    private var pending: [Key: Pending] = [:]
    private var deadlines = TimedQueue<Key>()
    private var retries = TimedQueue<Key>()

    init(node: NodeID, timeout: TimeSpan, retryInterval: TimeSpan = .milliseconds(20), maximumHops: Int = 3) {
        self.node = node
        self.timeout = timeout
        self.retryInterval = retryInterval
        self.maximumHops = maximumHops
    }

    /// Requests waiting for an answer.
    var count: Int { pending.count }

    /// When `due(at:)` next has something to do (possibly nothing, for entries answered since).
    var nextWakeUp: Instant? {
        switch (deadlines.nextTime, retries.nextTime) {
        case (let a?, let b?): min(a, b)
        case (let a, let b): a ?? b
        }
    }

    // MARK: Requests in

    /// A client of this node sent `request` on `connection`; the node steps it now.
    mutating func accept(_ request: ClientRequest, connection: UInt64, at now: Instant) {
        update(request, at: now) { $0.connections.append(connection) }
    }

    /// Peer `peer` forwarded `request`; the node steps it now and answers the peer.
    mutating func accept(_ request: ClientRequest, peer: NodeID, at now: Instant) {
        update(request, at: now) { $0.peers.append(peer) }
    }

    /// A copy of a request already waiting (a client re-sent it) joins the waiting entry and
    /// keeps its deadline.
    private mutating func update(_ request: ClientRequest, at now: Instant, _ body: (inout Pending) -> Void) {
        let key = Key(request.client, request.sequence)
        if pending[key] != nil { return body(&pending[key]!) }
        var entry = Pending(request: request, deadline: now + timeout)
        body(&entry)
        pending[key] = entry
        deadlines.append(key, at: entry.deadline)
    }

    // MARK: Answers in

    /// The answer `reply` came from `source` (this node's backend, or the peer a request was
    /// forwarded to): what to do with it.
    mutating func route(_ reply: ClientReply, from source: NodeID, at now: Instant) -> [Action] {
        let key = Key(reply.client, reply.sequence)
        guard var entry = pending[key] else { return [] }
        var actions = entry.peers.map { Action.answer(reply, peer: $0) }
        entry.peers.removeAll()
        entry.forwardedTo = nil
        if case .notLeader(let hint) = reply.status, !entry.connections.isEmpty {
            if let hint, hint != source, entry.hops < maximumHops {
                entry.hops += 1
                entry.forwardedTo = hint == node ? nil : hint
                entry.refusal = nil  // in the hinted node's hands now: it may take effect
                actions.append(.submit(entry.request, to: hint))
            } else {
                entry.refusal = reply
                queueRetry(&entry, key, at: now)
            }
            pending[key] = entry
            return actions
        }
        actions += entry.connections.map { .deliver(reply, connection: $0) }
        pending[key] = nil
        return actions
    }

    /// The link to `peer` went down: requests forwarded to it are retried.
    mutating func lost(_ peer: NodeID, at now: Instant) {
        for (key, entry) in pending where entry.forwardedTo == peer {
            var retried = entry
            queueRetry(&retried, key, at: now)
            pending[key] = retried
        }
    }

    private mutating func queueRetry(_ entry: inout Pending, _ key: Key, at now: Instant) {
        entry.forwardedTo = nil
        guard !entry.retryQueued else { return }
        entry.retryQueued = true
        retries.append(key, at: now + retryInterval)
    }

    // MARK: Time

    /// What is due at `now`: clients whose time is up, then retries to step on this node.
    mutating func due(at now: Instant) -> [Action] {
        var actions: [Action] = []
        for key in deadlines.takeDue(at: now) {
            guard let entry = pending[key], entry.deadline <= now else { continue }
            pending[key] = nil
            actions += entry.connections.map { connection in
                entry.refusal.map { .deliver($0, connection: connection) } ?? .abandon(key, connection: connection)
            }
        }
        for key in retries.takeDue(at: now) {
            guard var entry = pending[key], entry.retryQueued else { continue }
            entry.retryQueued = false
            entry.hops = 0
            entry.refusal = nil
            pending[key] = entry
            actions.append(.submit(entry.request, to: node))
        }
        return actions
    }
}

/// Keys in the order of their times, which arrive in order (a fixed delay after a monotonic `now`):
/// a queue, not a heap. A time earlier than the last one (a caller's `now` read a moment before
/// another's) is taken as the last one: a few microseconds late, never out of order.
struct TimedQueue<Key> {
    private var items: [(time: Instant, key: Key)] = []
    private var head = 0

    var nextTime: Instant? { head < items.count ? items[head].time : nil }

    mutating func append(_ key: Key, at time: Instant) {
        items.append((max(time, items.last?.time ?? time), key))
    }

    /// The keys due at `now`, oldest first, removed from the queue.
    mutating func takeDue(at now: Instant) -> [Key] {
        var due: [Key] = []
        while head < items.count, items[head].time <= now {
            due.append(items[head].key)
            head += 1
        }
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 1024 && head >= items.count / 2 {
            items.removeSubrange(0..<head)
            head = 0
        }
        return due
    }
}
