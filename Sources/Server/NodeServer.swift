import ConsensusCore
import Glibc
import NodeHost
import RESP
import Runtime
import Storage

/// One member of a cluster as a process runs it (`conlab serve`): the backend in a `NodeHost` on
/// a `DirectoryLog`, driven by one `EventLoop` thread that carries everything — peer links, client
/// connections, timers and the disk — so that nothing in here needs a lock.
///
/// **Steps.** Every input (a peer's message, a client's request, a timer's tick, the node's own
/// acknowledgement) goes through `submit`, which steps the backend once per input and never inside
/// another step: an output that feeds the node again (a message to itself, a request forwarded to
/// itself) joins the inbox behind the step that produced it, as the simulator's agenda orders it.
///
/// **Group commit.** A step's writes go to the log at once, unsynced; its outputs leave now if
/// they promise nothing about them, else the host holds them (`DurabilityGate`). At the end of the
/// loop turn — after every input the turn read, and after the messages that need not wait are on
/// the wire (a leader's entries: the followers' syncs overlap its own) — `commit()` syncs the log
/// once for all the turn's writes and lets out what the sync released. So a busy node pays one
/// `fsync` per turn, however many requests the turn carried.
///
/// **Time.** The backend steps on `MonotonicClock`, and its `nextDeadline` is a loop timer.
///
/// The node's clients (`NodeServer+Clients.swift`), its peers (`NodeServer+Peers.swift`) and the
/// routing of requests and answers between them (`NodeServer+Routing.swift`) are extensions.
final class NodeServer<Backend: ReplicationBackend>: @unchecked Sendable {
    typealias Host = NodeHost<Backend, DirectoryLog<Backend.Entry, Backend.HardState>, Output>

    /// An output the durability gate may hold.
    enum Output {
        case message(to: NodeID, Backend.Message)
        case reply(ClientReply)
    }

    let loop: EventLoop
    let configuration: ClusterConfiguration
    let member: ClusterConfiguration.Member
    let dataDirectory: String
    let log: NodeLog
    /// Called once when the node stops by itself: a storage failure (status 1).
    let onFailure: @Sendable (Int32) -> Void
    var host: Host
    var status: NodeStatus
    var router: RequestRouter
    var transport: PeerTransport?
    var listener: TCPListener?
    /// Open client connections by their number in this incarnation.
    var clients: [UInt64: ClientLink] = [:]
    var connectionsAccepted: UInt64 = 0
    /// Peers whose unreachability is already in the log (reported once per outage, not per redial).
    var unreachableReported: Set<NodeID> = []
    /// Reused by each read of a client connection.
    var requestBuffer: [ClientRequest] = []
    var routerTimer: (deadline: Instant, timer: TimerID)?
    /// What the runner of `conlab run --real` injected (`NodeServer+Admin.swift`).
    var faults = InjectedFaults()
    var adminListener: TCPListener?
    var adminLinks: [ObjectIdentifier: AdminLink] = [:]
    private(set) var isRunning = false
    private var inbox: [Input<Backend.Message>] = []
    private var inboxHead = 0
    private var draining = false
    private var tick: (deadline: Instant, timer: TimerID)?
    private var commitScheduled = false

    /// Call on `loop`'s thread; `start()` opens the log and the sockets.
    /// `fileSystem` holds the log: the real one, or for measuring the loop alone a simulated one in
    /// memory (`serve --disk memory`: no I/O, nothing survives the process).
    init(loop: EventLoop, configuration: ClusterConfiguration, member: ClusterConfiguration.Member, options: Backend.Options,
         dataDirectory: String, fileSystem: any FileSystem, onFailure: @escaping @Sendable (Int32) -> Void) {
        self.loop = loop
        self.configuration = configuration
        self.member = member
        self.dataDirectory = dataDirectory
        self.onFailure = onFailure
        log = NodeLog(node: member.id)
        host = Host(id: member.id, cluster: configuration.memberIDs, options: options,
                    storage: DirectoryLog(directory: dataDirectory + "/log", fileSystem: fileSystem), waitsForDisk: true)
        status = NodeStatus(node: member.id, protocolName: Backend.protocolName, incarnation: 0)
        router = RequestRouter(node: member.id, timeout: configuration.requestTimeout)
    }

    var id: NodeID { member.id }

    // MARK: Life cycle

    /// Recovers the log (refusing a corrupt one: `StorageError.corruptRecord`), counts the start,
    /// then listens for peers and clients.
    func start() throws {
        _ = try host.start(seed: .random(in: 0 ... .max))
        reportRecovery()
        status.incarnation = try Incarnation.next(in: dataDirectory)
        try openPeers()
        try openClients()
        try openAdmin()
        isRunning = true
        armTick()
        log.write("serving \(configuration.backend.label) as \(id) of \(configuration.members.count) (incarnation \(status.incarnation)): "
                  + "clients at \(member.client), peers at \(member.peer), data in \(dataDirectory)")
    }

    private func reportRecovery() {
        guard let report = host.storage.lastRecovery else { return }
        log.write(report.segments.isEmpty ? "a new log in \(dataDirectory)/log"
                  : "recovered \(report.records) log records from \(report.segments.count) segments")
        if report.droppedBytes > 0 {
            log.write("repaired a torn tail: cut \(report.droppedBytes) bytes from \(report.tornFile ?? "the last segment") (writes never synced)")
        }
        for file in report.removedFiles { log.write("removed \(file), left by an interrupted snapshot") }
    }

    /// A clean stop (SIGTERM): the pending sync finishes and what it releases is queued, then the
    /// sockets close and the log is synced and closed.
    func stop() {
        guard isRunning else { return }
        commit()
        guard isRunning else { return }  // the sync failed: `fail` stopped the node
        isRunning = false
        closeSockets(flushingClients: true)
        do { try host.storage.close() } catch { log.write("closing the log failed: \(error)") }
        log.write("stopped")
    }

    /// The log failed (a write or a sync): the node stops at once, syncing nothing more, as etcd
    /// and PostgreSQL do after a failed fsync; a restart recovers what is durable.
    func fail(_ message: String) {
        guard isRunning else { return }
        isRunning = false
        log.write(message)
        closeSockets(flushingClients: false)
        onFailure(1)
    }

    private func closeSockets(flushingClients: Bool) {
        for timer in [tick?.timer, routerTimer?.timer].compactMap({ $0 }) { loop.cancel(timer) }
        tick = nil
        routerTimer = nil
        listener?.close()
        adminListener?.close()
        for link in adminLinks.values { link.connection.close() }
        adminLinks.removeAll()
        transport?.close()
        for link in clients.values {
            if flushingClients { link.connection.closeAfterFlush() } else { link.connection.close() }
        }
        clients.removeAll()
    }

    // MARK: Steps

    /// Steps `input` now, or after the step under way and the inputs queued before it.
    func submit(_ input: Input<Backend.Message>) {
        inbox.append(input)
        guard !draining else { return }
        draining = true
        while inboxHead < inbox.count {
            let next = inbox[inboxHead]
            inboxHead += 1
            step(next)
        }
        inbox.removeAll(keepingCapacity: true)
        inboxHead = 0
        draining = false
    }

    private func step(_ input: Input<Backend.Message>) {
        step { host, now throws(StorageError) in try host.step(input, at: now) }
    }

    /// One step of any kind: `advance` steps the host at the backend's time (storage first, which
    /// the host applies), then the outputs, each sent now or held until the turn's sync.
    func step(_ advance: (inout Host, Instant) throws(StorageError) -> Void) {
        guard isRunning else { return }
        do {
            try advance(&host, faults.clock.local(MonotonicClock.now()))
        } catch {
            return fail("writing the log failed: \(error); stopping")
        }
        // A slowed node (`slow`): the input costs this much more, and the loop waits, as a busy CPU would.
        if faults.slowDelay > .zero { usleep(UInt32(clamping: faults.slowDelay.microseconds)) }
        status.steps += 1
        if !host.effects.events.isEmpty { observe(host.effects.events) }
        for outgoing in host.effects.messages {
            if !faults.armed.isEmpty, outgoing.to != id { stopIfTriggered(.sent(kind: outgoing.message.kind.rawValue)) }
            let output = Output.message(to: outgoing.to, outgoing.message)
            if outgoing.departure == .afterWrites && host.mustHold { host.hold(output) } else { emit(output) }
        }
        for reply in host.effects.replies {
            if host.mustHold { host.hold(.reply(reply)) } else { emit(.reply(reply)) }
        }
        if host.mustHold { scheduleCommit() }
        armTick()
    }

    /// An output leaves: to a peer, back into the node (its acknowledgement of its own write), or
    /// to whoever asked (a reply).
    private func emit(_ output: Output) {
        switch output {
        case .message(let to, let message) where to == id:
            submit(.receive(from: id, message: message))
        case .message(let to, let message):
            _ = ship(WireFrame(Backend.self, message: message), to: to, kind: message.kind.rawValue)
        case .reply(let reply):
            route(reply, from: id)
        }
    }

    /// Sends a frame to a peer through the faults the runner injected (`InjectedFaults`): a cut
    /// or a dropped kind loses it, a link profile delays, loses or duplicates it. Returns how the
    /// transport took it (`.queued` too for a frame that is on its way through a delay or was lost
    /// on the link: it left the node); nil when a cut stopped it.
    func ship(_ frame: WireFrame, to peer: NodeID, kind: String? = nil) -> PeerTransport.SendOutcome? {
        guard !faults.blocks(to: peer, kind: kind) else { return nil }
        guard faults.links[peer] != nil else { return transport?.send(frame, to: peer) }
        let now = MonotonicClock.now()
        let bytes = frame.encodedBytes()
        for departure in faults.departures(to: peer, at: now) {
            if departure <= now {
                _ = transport?.send(bytes, to: peer)
            } else {
                _ = loop.schedule(at: departure) { [weak self] in _ = self?.transport?.send(bytes, to: peer) }
            }
        }
        return .queued
    }

    private func observe(_ events: [ObservableEvent]) {
        let now = MonotonicClock.now()
        for event in events {
            faults.record(event, at: now)
            switch event {
            case .role(let role, let term, let name):
                log.write("\(name) in term \(term)")
                if !faults.armed.isEmpty { stopIfTriggered(.role(role)) }
            case .committed(let index):
                status.commitIndex = max(status.commitIndex, index)
                if !faults.armed.isEmpty { stopIfTriggered(.committed(index)) }
            case .note(let kind, let detail): log.write("\(kind): \(detail)")
            case .violation(let violation): log.write("SAFETY VIOLATION: \(violation)")
            case .coordinating, .decided, .prepared: break
            }
        }
    }

    // MARK: Group commit

    private func scheduleCommit() {
        guard !commitScheduled else { return }
        commitScheduled = true
        loop.atEndOfTurn { [weak self] in self?.commit() }
    }

    /// Syncs everything written this turn once and lets out what waited for it. What leaves may
    /// feed the node (its own acknowledgements) and write again; that is synced before the turn
    /// ends too, so nothing held ever waits for a turn that no input would start.
    private func commit() {
        commitScheduled = false
        var synced = false
        while isRunning, let mark = host.seal() {
            let writes = host.storage.unsyncedCount
            // Collected first: sending and routing may reach the host again.
            var released: [Output] = []
            do {
                try host.release(mark, incarnation: host.incarnation) { released.append($0) }
            } catch {
                return fail("syncing the log failed: \(error); stopping")
            }
            if writes > 0 {
                status.syncs += 1
                status.syncedWrites += writes
                synced = true
            }
            // As the simulator orders them: what leaves the node first, then the acknowledgements
            // to itself, whose steps may send more (which must not overtake what was released).
            var own: [Backend.Message] = []
            for output in released {
                if case .message(id, let message) = output { own.append(message) } else { emit(output) }
            }
            for message in own { submit(.receive(from: id, message: message)) }
        }
        if synced { status.syncTurns += 1 }
    }

    // MARK: Timers

    /// Keeps a loop timer at the backend's `nextDeadline` (or earlier: one that fires early finds
    /// the deadline not yet due and re-arms).
    /// Deadlines are in the backend's clock (`faults.clock`, true time unless the runner set a
    /// rate); the loop timer fires when that clock reads the deadline.
    private func armTick() {
        guard let deadline = host.backend?.nextDeadline else { return }
        if let tick, tick.deadline <= deadline { return }
        if let tick { loop.cancel(tick.timer) }
        tick = (deadline, loop.schedule(at: faults.clock.global(deadline)) { [weak self] in self?.tickDue() })
    }

    /// The clock's rate changed: the timer armed for the next deadline fires at another moment.
    func rearmTick() {
        if let tick { loop.cancel(tick.timer) }
        tick = nil
        armTick()
    }

    private func tickDue() {
        tick = nil
        guard isRunning, let deadline = host.backend?.nextDeadline else { return }
        if deadline <= faults.clock.local(MonotonicClock.now()) { submit(.tick) } else { armTick() }
    }

    /// What `INFO` reports now.
    var currentStatus: NodeStatus {
        var current = status
        current.leadership = host.backend?.leadership
        return current
    }
}
