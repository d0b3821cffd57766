import ConsensusCore
import Lab
import RESP
import Runtime
import Server
import Sharding
import Simulator

/// The scenario's clients as real TCP clients of a real cluster: one RESP connection each to every
/// destination its requests go to (`ClientRoutes`: its own node, or a sharded store's groups),
/// with one exactly-once session (`CONLAB.SESSION`, `CONLAB.SEQ`). Operations, think
/// times and open-loop arrival times come from the simulator's own streams (`OperationSource`)
/// under the same seed, so a client meets the same operations at the same planned times as in the
/// simulator; only the answers (and so compare-and-set's expected values) come from the cluster.
///
/// Everything runs on one `EventLoop` thread: timestamps are taken when a reply is read, in
/// microseconds of `MonotonicClock` since `origin`.
///
/// A node forwards a request to its leader itself, so a client never follows redirects: it sends
/// to its own node, sends an unanswered request again (same number) after `redirectBackoff` when
/// the node says no leader could take it (`CLUSTERDOWN`, `TRYAGAIN`), reconnects every `retry`
/// while its node is down (sending what is in flight again, under the same numbers), and gives up
/// at `timeout`: the outcome is then indeterminate. A group of a sharded store that does not serve
/// the key (`WRONGGROUP`, which took no effect) has the routes look the table up again, and the
/// request goes again after `redirectBackoff`, under the same number, wherever the table then
/// sends it: the session moves with the bucket, so a copy that did take effect is answered from
/// its cache, not applied twice.
final class ClientEngine: @unchecked Sendable {
    private let loop: EventLoop
    let routes: any ClientRoutes
    let workload: WorkloadConfig
    /// The share of a sharded run's client operations that are cross-shard transactions
    /// (`ClientEngine+Transactions`); none otherwise.
    let transactionMix: ShardClients.TransactionMix
    /// Whether each closed-loop client first waits a think time (as a simulated cluster's clients
    /// do) or starts at time 0 (as the simulator's sharded clients do, `ShardClients`).
    private let staggered: Bool
    /// The transactions the clients coordinated.
    var ledger = TransactionLedger()
    private let seed: UInt64
    private let origin: Instant
    private let duration: TimeSpan
    private(set) var history: [HistoryOperation] = []
    private var clients: [Client] = []
    private var nodeSources: [OperationSource] = []
    private var workloadOpen = true
    private var isClosed = false

    final class Client {
        enum Kind { case closed, open, retired }
        let id: ClientID
        let home: Int
        var kind: Kind
        var source: OperationSource?
        var sequence: UInt64 = 0
        var watermark = SessionWatermark()
        /// Whether each next operation is a transaction, and its keys: a stream of its own, drawn
        /// only when transactions are on (as the simulator's sharded clients draw it).
        var transactions: DeterministicRandom
        var transactionCount = 0
        /// The cross-shard transaction it coordinates now, and the table it was routed by.
        var transaction: (clerk: TransactionClerk, open: TransactionLedger.Open, configuration: ShardConfiguration)?
        /// Per destination, the connections there.
        var links: [LinkKey: Link] = [:]
        var operations: [Pending] = []
        var timer: (at: Instant, id: TimerID)?
        /// A closed-loop client's next operation is due then.
        var nextOperation: Instant?

        init(id: ClientID, home: Int, kind: Kind, seed: UInt64) {
            self.id = id
            self.home = home
            self.kind = kind
            transactions = DeterministicRandom(seed: seed, label: "transactions-c\(id.rawValue)")
        }

        func closeLinks() {
            for link in links.values {
                link.connection?.close()
                link.connection = nil
            }
        }

        func link(_ key: LinkKey) -> Link {
            if let link = links[key] { return link }
            let link = Link(key)
            links[key] = link
            return link
        }
    }

    /// Which of a client's connections: to a destination, for its operations or for its
    /// transactions' steps. The steps go apart because a group applies a control command outside
    /// any session, while the connection that carried it counts as established once answered:
    /// the client's next write there would name a session the group never opened.
    struct LinkKey: Hashable {
        var destination: Int
        var control: Bool
    }

    /// A client's connection to one destination, and its session's standing there.
    final class Link {
        let key: LinkKey
        var connection: TCPConnection?
        var reader = ReplyReader()
        /// The sequence number each reply still due on this connection answers (0: `CONLAB.SESSION`).
        var awaiting: [UInt64] = []
        /// The destination has applied a write of the session: a later connection there says so
        /// (`ESTABLISHED`), so that a session it lost is an error, not a new session.
        var established = false
        var reconnectAt: Instant?

        init(_ key: LinkKey) { self.key = key }
    }

    struct Pending {
        /// The operation's place in the history; nil for a step of a transaction.
        var historyIndex: Int?
        var sequence: UInt64
        var command: Command
        var deadline: Instant
        /// Where it must go whatever its key (a transaction's step); nil: where the routes send its key.
        var target: Int?
        /// Where it was last sent; nil while it has never been.
        var destination: Int?
        /// When to send it again after a refusal that took no effect; nil: not due.
        var resendAt: Instant?
    }

    init(loop: EventLoop, routes: any ClientRoutes, workload: WorkloadConfig, transactions: ShardClients.TransactionMix = .init(), staggered: Bool = true,
         seed: UInt64, origin: Instant, duration: TimeSpan) {
        self.loop = loop
        self.routes = routes
        self.workload = workload
        transactionMix = transactions
        self.staggered = staggered
        self.seed = seed
        self.origin = origin
        self.duration = duration
    }

    /// Run time now, as the history records it.
    var now: Instant { .zero + (MonotonicClock.now() - origin) }

    private func wall(_ time: Instant) -> Instant { origin + (time - .zero) }

    // MARK: Starting and ending

    /// Creates the clients and schedules the workload (on the loop's thread).
    func begin() {
        for node in 0..<routes.homes {
            for _ in 0..<workload.clientsPerNode {
                guard case .closed(let think) = workload.mode else {
                    addClient(home: node, kind: .open)
                    continue
                }
                let client = addClient(home: node, kind: .closed)
                client.source = OperationSource(client: client.id, seed: seed, workload: workload)
                client.nextOperation = .zero + (staggered ? client.source!.draw(think) : .zero)
                schedule(client)
            }
            if case .open(let rate) = workload.mode, rate > 0 {
                var source = OperationSource(arrivalsAt: node, seed: seed, workload: workload)
                let first = Instant.zero + source.interArrival(rate: rate)
                nodeSources.append(source)
                scheduleArrival(at: node, first)
            }
        }
        _ = loop.schedule(at: wall(.zero + duration)) { [weak self] in self?.workloadOpen = false }
    }

    /// Gives up on whatever is still in flight (it stays indeterminate, transactions too) and
    /// closes every connection.
    func close() {
        isClosed = true
        for client in clients {
            if let transaction = client.transaction { ledger.abandon(transaction.open) }
            if let timer = client.timer { loop.cancel(timer.id) }
            client.closeLinks()
            client.operations.removeAll()
        }
    }

    @discardableResult
    private func addClient(home: Int, kind: Client.Kind) -> Client {
        let client = Client(id: ClientID(clients.count + 1), home: home, kind: kind, seed: seed)
        clients.append(client)
        return client
    }

    // MARK: Operations

    private func scheduleArrival(at node: Int, _ time: Instant) {
        _ = loop.schedule(at: wall(time)) { [weak self] in self?.arrival(at: node, planned: time) }
    }

    /// Open loop: the operation goes to a client of the node with room, else to a new client.
    private func arrival(at node: Int, planned: Instant) {
        guard workloadOpen, !isClosed, case .open(let rate) = workload.mode else { return }
        let command = nodeSources[node].next()
        let client = clients.first { $0.kind == .open && $0.home == node && $0.operations.count < workload.outstanding }
            ?? addClient(home: node, kind: .open)
        invoke(command, by: client)
        scheduleArrival(at: node, planned + nodeSources[node].interArrival(rate: rate))
    }

    private func invoke(_ command: Command, by client: Client) {
        client.sequence += 1
        let time = now
        history.append(HistoryOperation(id: history.count + 1, client: client.id, node: routes.node(of: command, home: client.home, client: client.id),
                                        command: command, invoke: time, complete: nil, outcome: .indeterminate))
        client.operations.append(Pending(historyIndex: history.count - 1, sequence: client.sequence, command: command, deadline: time + workload.timeout))
        dispatch(client.operations.count - 1, by: client, connectingNow: true)
        schedule(client)
    }

    /// Sends operation `position` where the routes send it now: on the open connection there, or
    /// with the connection it opens. One whose key no destination serves (a sharded store's table
    /// not read yet) waits `redirectBackoff` for the table.
    /// A new request (`connectingNow`) opens a connection at once; one sent again waits for the
    /// connection's next attempt if one is due.
    func dispatch(_ position: Int, by client: Client, connectingNow: Bool = false) {
        let pending = client.operations[position]
        guard let destination = pending.target ?? routes.destination(of: pending.command, home: client.home) else {
            client.operations[position].resendAt = now + workload.redirectBackoff
            return routes.refresh()
        }
        client.operations[position].destination = destination
        if let index = pending.historyIndex { history[index].node = routes.node(destination, home: client.home, client: client.id) }
        let key = LinkKey(destination: destination, control: pending.historyIndex == nil)
        let link = client.link(key)
        if link.connection != nil {
            send(client.operations[position], on: link, by: client)
        } else if link.reconnectAt == nil || connectingNow {
            connect(client, to: key)
        }
        // Else it goes with the rest once the connection is made again.
    }

    private func send(_ pending: Pending, on link: Link, by client: Client) {
        guard let connection = link.connection else { return }
        let arguments = ["CONLAB.SEQ", String(pending.sequence), String(client.watermark.finishedThrough)] + pending.command.redisArguments
        var bytes: [UInt8] = []
        RESPValue.array(arguments.map { RESPValue.bulk($0) }).encode(into: &bytes, version: .resp2)
        _ = connection.write(bytes)
        link.awaiting.append(pending.sequence)
    }

    // MARK: Connections

    /// Opens the client's connection `key`, binds its session and sends again what is in flight
    /// on it (what waits out a refusal goes at its time).
    private func connect(_ client: Client, to key: LinkKey) {
        guard !isClosed, client.kind != .retired else { return }
        let link = client.link(key)
        link.reconnectAt = nil
        let connection: TCPConnection
        do {
            connection = try TCPConnection.connect(to: routes.address(key.destination, home: client.home, client: client.id), on: loop, outputLimit: 64 << 20)
        } catch {
            return lost(link, of: client)
        }
        link.connection = connection
        link.reader = ReplyReader()
        link.awaiting = [0]
        var bytes: [UInt8] = []
        let session = ["CONLAB.SESSION", String(client.id.rawValue)] + (link.established ? ["ESTABLISHED"] : [])
        RESPValue.array(session.map { RESPValue.bulk($0) }).encode(into: &bytes, version: .resp2)
        _ = connection.write(bytes)
        for pending in client.operations where pending.destination == key.destination && (pending.historyIndex == nil) == key.control && pending.resendAt == nil {
            send(pending, on: link, by: client)
        }
        connection.onRead = { [weak self, weak client, weak link, weak connection] bytes in
            guard let self, let client, let link, let connection, link.connection === connection else { return }
            self.read(Array(bytes)[...], client: client, link: link)
        }
        connection.onClose = { [weak self, weak client, weak link, weak connection] _ in
            guard let self, let client, let link, link.connection === connection else { return }
            link.connection = nil
            self.lost(link, of: client)
        }
    }

    /// The connection could not be made or was lost: made again after `retry`, through another
    /// member where the routes have one (`ClientRoutes.moveOn`).
    private func lost(_ link: Link, of client: Client) {
        guard !isClosed, client.kind != .retired else { return }
        _ = routes.moveOn(from: link.key.destination, client: client.id)
        link.reconnectAt = now + workload.retryInterval
        schedule(client)
    }

    /// The member behind `link` found no leader to take a request (`CLUSTERDOWN`, `TRYAGAIN`):
    /// where the routes have another member, the connection goes there, in time for the request
    /// to be sent again after `redirectBackoff`.
    func noLeader(behind link: Link, of client: Client) {
        guard routes.moveOn(from: link.key.destination, client: client.id), let connection = link.connection else { return }
        link.connection = nil
        connection.close()
        link.reconnectAt = now + workload.redirectBackoff
    }

    private func read(_ bytes: ArraySlice<UInt8>, client: Client, link: Link) {
        link.reader.append(bytes)
        while link.connection != nil {
            let reply: RESPClient.Reply
            do {
                guard let next = try link.reader.next() else { return }
                reply = next
            } catch {
                link.connection?.close()
                link.connection = nil
                return lost(link, of: client)
            }
            guard !link.awaiting.isEmpty else { continue }
            let sequence = link.awaiting.removeFirst()
            if sequence > 0 { answer(reply, sequence: sequence, client: client, link: link) }
        }
    }

    /// What a reply means for the operation it answers (see `RESPValue(_:to:)` for the words).
    private func answer(_ reply: RESPClient.Reply, sequence: UInt64, client: Client, link: Link) {
        guard let position = client.operations.firstIndex(where: { $0.sequence == sequence }) else { return }
        if client.operations[position].historyIndex == nil { return answerStep(reply, position, client, link) }
        let command = client.operations[position].command
        if case .error(let text) = reply {
            if text.hasPrefix("CLUSTERDOWN") || text.hasPrefix("TRYAGAIN") || text.hasPrefix("WRONGGROUP") {
                if text.hasPrefix("WRONGGROUP") { routes.refresh() } else { noLeader(behind: link, of: client) }
                client.operations[position].resendAt = now + workload.redirectBackoff
                schedule(client)
            } else if text.hasPrefix("NOREPLICAS") || text.hasPrefix("ERR aborted") {
                complete(client, position, .fail(.refused))
            } else if text.hasPrefix("ERR session expired") {
                renewSession(client)
            }
            // TIMEOUT, superseded: no verdict; the operation stays in flight until its deadline.
            return
        }
        guard let result = Self.result(reply, of: command) else { return }
        if !command.isRead { link.established = true }
        if case .casMismatch = result { complete(client, position, .fail(.casMismatch)) } else { complete(client, position, .ok(result), result: result) }
    }

    /// The result a successful reply carries; nil for a reply that is none of them.
    static func result(_ reply: RESPClient.Reply, of command: Command) -> CommandResult? {
        switch (command, reply) {
        case (.get, .bulk(let bytes)): .value(bytes.map { String(decoding: $0, as: UTF8.self) })
        case (.put, .simple("OK")), (.cas, .simple("OK")), (.append, .integer), (.delete, .integer): .done
        // Redis's answer to a compare-and-set that did not match carries no current value.
        case (.cas, .bulk(nil)): .casMismatch(current: nil)
        default: nil
        }
    }

    private func complete(_ client: Client, _ position: Int, _ outcome: Outcome, result: CommandResult? = nil) {
        let operation = client.operations.remove(at: position)
        let index = operation.historyIndex!
        history[index].outcome = outcome
        history[index].complete = outcome == .indeterminate ? nil : now
        client.watermark.finish(operation.sequence)
        if let result, client.kind == .closed { client.source?.observe(operation.command, result) }
        if let result, client.kind == .open { nodeSources[client.home].observe(operation.command, result) }
        think(client)
    }

    /// A closed-loop client's next operation is due after its think time (none after the workload).
    func think(_ client: Client) {
        if client.kind == .closed, workloadOpen, case .closed(let think) = workload.mode {
            client.nextOperation = now + client.source!.draw(think)
        }
        schedule(client)
    }

    /// The store expired the session: what is in flight stays indeterminate, and a closed-loop
    /// client's work goes on under a new id, as the simulator's clients do.
    private func renewSession(_ client: Client) {
        client.operations.removeAll()
        let kind = client.kind
        client.kind = .retired
        client.closeLinks()
        if let timer = client.timer { loop.cancel(timer.id) }
        guard kind == .closed else { return }
        let successor = addClient(home: client.home, kind: .closed)
        successor.source = client.source
        client.source = nil
        guard workloadOpen, case .closed(let think) = workload.mode else { return }
        successor.nextOperation = now + successor.source!.draw(think)
        schedule(successor)
    }

    // MARK: Timers

    /// Keeps one loop timer at the client's next duty: a deadline, a send again, a reconnect, its
    /// next operation.
    func schedule(_ client: Client) {
        guard !isClosed, client.kind != .retired else { return }
        var due = client.operations.map { min($0.deadline, $0.resendAt ?? $0.deadline) }
        if let next = client.nextOperation { due.append(next) }
        due += client.links.values.compactMap(\.reconnectAt)
        guard let at = due.min() else { return }
        if let timer = client.timer {
            if timer.at == at { return }
            loop.cancel(timer.id)
        }
        client.timer = (at, loop.schedule(at: wall(at)) { [weak self, weak client] in
            guard let self, let client else { return }
            client.timer = nil
            self.wake(client)
        })
    }

    private func wake(_ client: Client) {
        guard !isClosed, client.kind != .retired else { return }
        let time = now
        var position = 0
        while position < client.operations.count {
            if time >= client.operations[position].deadline {
                if client.operations[position].historyIndex == nil {
                    take(position, client, .indeterminate)  // the transaction's next step goes at the end
                    continue
                }
                // Never sent (no group was known to serve its key): it took no effect anywhere.
                complete(client, position, client.operations[position].destination == nil ? .fail(.refused) : .indeterminate)
                continue
            }
            if let resend = client.operations[position].resendAt, time >= resend {
                client.operations[position].resendAt = nil
                dispatch(position, by: client)
            }
            position += 1
        }
        for (key, link) in client.links where link.connection == nil && link.reconnectAt.map({ time >= $0 }) == true {
            connect(client, to: key)
        }
        if let next = client.nextOperation, time >= next, client.operations.isEmpty, client.transaction == nil {
            client.nextOperation = nil
            if workloadOpen, transactionMix.share > 0, client.transactions.nextUnit() < transactionMix.share {
                beginTransaction(client)
            } else if workloadOpen, var source = client.source {
                let command = source.next()
                client.source = source
                invoke(command, by: client)
            }
        }
        schedule(client)
    }
}

