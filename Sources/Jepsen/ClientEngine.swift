import ConsensusCore
import RESP
import Runtime
import Server
import Simulator

/// The scenario's clients as real TCP clients of a real cluster: one RESP connection each, pinned
/// to its node, with an exactly-once session (`CONLAB.SESSION`, `CONLAB.SEQ`). Operations, think
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
/// at `timeout`: the outcome is then indeterminate.
final class ClientEngine: @unchecked Sendable {
    private let loop: EventLoop
    private let addresses: [SocketAddress]
    private let workload: WorkloadConfig
    private let seed: UInt64
    private let origin: Instant
    private let duration: TimeSpan
    private(set) var history: [HistoryOperation] = []
    private var clients: [Client] = []
    private var nodeSources: [OperationSource] = []
    private var workloadOpen = true
    private var isClosed = false

    private final class Client {
        enum Kind { case closed, open, retired }
        let id: ClientID
        let home: Int
        var kind: Kind
        var source: OperationSource?
        var sequence: UInt64 = 0
        var watermark = SessionWatermark()
        var established = false
        var connection: TCPConnection?
        var reader = ReplyReader()
        /// The sequence number each reply still due on this connection answers (0: `CONLAB.SESSION`).
        var awaiting: [UInt64] = []
        var operations: [Pending] = []
        var timer: (at: Instant, id: TimerID)?
        /// A closed-loop client's next operation is due then.
        var nextOperation: Instant?
        var reconnectAt: Instant?

        init(id: ClientID, home: Int, kind: Kind) {
            self.id = id
            self.home = home
            self.kind = kind
        }
    }

    private struct Pending {
        var historyIndex: Int
        var sequence: UInt64
        var command: Command
        var deadline: Instant
        /// When to send it again after a refusal that took no effect; nil: not due.
        var resendAt: Instant?
    }

    init(loop: EventLoop, addresses: [SocketAddress], workload: WorkloadConfig, seed: UInt64, origin: Instant, duration: TimeSpan) {
        self.loop = loop
        self.addresses = addresses
        self.workload = workload
        self.seed = seed
        self.origin = origin
        self.duration = duration
    }

    /// Run time now, as the history records it.
    private var now: Instant { .zero + (MonotonicClock.now() - origin) }

    private func wall(_ time: Instant) -> Instant { origin + (time - .zero) }

    // MARK: Starting and ending

    /// Creates the clients and schedules the workload (on the loop's thread).
    func begin() {
        for node in addresses.indices {
            for _ in 0..<workload.clientsPerNode {
                guard case .closed(let think) = workload.mode else {
                    addClient(home: node, kind: .open)
                    continue
                }
                let client = addClient(home: node, kind: .closed)
                client.source = OperationSource(client: client.id, seed: seed, workload: workload)
                client.nextOperation = .zero + client.source!.draw(think)
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

    /// Gives up on whatever is still in flight (it stays indeterminate) and closes every connection.
    func close() {
        isClosed = true
        for client in clients {
            if let timer = client.timer { loop.cancel(timer.id) }
            client.connection?.close()
            client.connection = nil
            client.operations.removeAll()
        }
    }

    @discardableResult
    private func addClient(home: Int, kind: Client.Kind) -> Client {
        let client = Client(id: ClientID(clients.count + 1), home: home, kind: kind)
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
        history.append(HistoryOperation(id: history.count + 1, client: client.id, node: NodeID(client.home + 1), command: command,
                                        invoke: time, complete: nil, outcome: .indeterminate))
        let pending = Pending(historyIndex: history.count - 1, sequence: client.sequence, command: command, deadline: time + workload.timeout)
        client.operations.append(pending)
        if client.connection == nil { connect(client) } else { send(pending, by: client) }
        schedule(client)
    }

    private func send(_ pending: Pending, by client: Client) {
        guard let connection = client.connection else { return }
        let arguments = ["CONLAB.SEQ", String(pending.sequence), String(client.watermark.finishedThrough)] + pending.command.redisArguments
        var bytes: [UInt8] = []
        RESPValue.array(arguments.map { RESPValue.bulk($0) }).encode(into: &bytes, version: .resp2)
        _ = connection.write(bytes)
        client.awaiting.append(pending.sequence)
    }

    // MARK: Connections

    /// Opens the client's connection, binds its session and sends again what is in flight.
    private func connect(_ client: Client) {
        guard !isClosed, client.kind != .retired else { return }
        client.reconnectAt = nil
        let connection: TCPConnection
        do {
            connection = try TCPConnection.connect(to: addresses[client.home], on: loop, outputLimit: 64 << 20)
        } catch {
            return retryConnect(client)
        }
        client.connection = connection
        client.reader = ReplyReader()
        client.awaiting = [0]
        var bytes: [UInt8] = []
        let session = ["CONLAB.SESSION", String(client.id.rawValue)] + (client.established ? ["ESTABLISHED"] : [])
        RESPValue.array(session.map { RESPValue.bulk($0) }).encode(into: &bytes, version: .resp2)
        _ = connection.write(bytes)
        for pending in client.operations { send(pending, by: client) }
        connection.onRead = { [weak self, weak client, weak connection] bytes in
            guard let self, let client, let connection, client.connection === connection else { return }
            self.read(Array(bytes)[...], client: client)
        }
        connection.onClose = { [weak self, weak client, weak connection] _ in
            guard let self, let client, client.connection === connection else { return }
            client.connection = nil
            self.retryConnect(client)
        }
    }

    private func retryConnect(_ client: Client) {
        guard !isClosed, client.kind != .retired else { return }
        client.reconnectAt = now + workload.retryInterval
        schedule(client)
    }

    private func read(_ bytes: ArraySlice<UInt8>, client: Client) {
        client.reader.append(bytes)
        while client.connection != nil {
            let reply: RESPClient.Reply
            do {
                guard let next = try client.reader.next() else { return }
                reply = next
            } catch {
                client.connection?.close()
                client.connection = nil
                return retryConnect(client)
            }
            guard !client.awaiting.isEmpty else { continue }
            let sequence = client.awaiting.removeFirst()
            if sequence > 0 { answer(reply, sequence: sequence, client: client) }
        }
    }

    /// What a reply means for the operation it answers (see `RESPValue(_:to:)` for the words).
    private func answer(_ reply: RESPClient.Reply, sequence: UInt64, client: Client) {
        guard let position = client.operations.firstIndex(where: { $0.sequence == sequence }) else { return }
        let command = client.operations[position].command
        if case .error(let text) = reply {
            if text.hasPrefix("CLUSTERDOWN") || text.hasPrefix("TRYAGAIN") {
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
        if !command.isRead { client.established = true }
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
        history[operation.historyIndex].outcome = outcome
        history[operation.historyIndex].complete = outcome == .indeterminate ? nil : now
        client.watermark.finish(operation.sequence)
        if let result, client.kind == .closed { client.source?.observe(operation.command, result) }
        if let result, client.kind == .open { nodeSources[client.home].observe(operation.command, result) }
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
        client.connection?.close()
        client.connection = nil
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
    private func schedule(_ client: Client) {
        guard !isClosed, client.kind != .retired else { return }
        var due = client.operations.map { min($0.deadline, $0.resendAt ?? $0.deadline) }
        if let next = client.nextOperation { due.append(next) }
        if let reconnect = client.reconnectAt { due.append(reconnect) }
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
                complete(client, position, .indeterminate)
                continue
            }
            if let resend = client.operations[position].resendAt, time >= resend {
                client.operations[position].resendAt = nil
                send(client.operations[position], by: client)
            }
            position += 1
        }
        if let reconnect = client.reconnectAt, time >= reconnect, client.connection == nil { connect(client) }
        if let next = client.nextOperation, time >= next, client.operations.isEmpty {
            client.nextOperation = nil
            if workloadOpen, var source = client.source {
                let command = source.next()
                client.source = source
                invoke(command, by: client)
            }
        }
        schedule(client)
    }
}
