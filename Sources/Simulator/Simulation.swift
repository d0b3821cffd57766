import ConsensusCore
import NodeHost
import Storage

/// A deterministic discrete-event simulation of a cluster running one backend.
///
/// One seed reproduces everything (TigerBeetle's rule): the network, the workload, every node's
/// timers and the fault targets each draw from their own generator derived from the run seed, and
/// the agenda runs events in (time, scheduling order). The simulator is generic over the backend, so
/// the calls into the protocol are specialised, not dynamic.
public final class Simulation<Backend: LabBackend> {
    public let config: SimulationConfig
    public let options: Backend.Options
    public let cluster: [NodeID]

    /// Virtual time of the event being processed.
    public private(set) var now: Instant = .zero
    public internal(set) var history: [HistoryOperation] = []
    public internal(set) var events: [EventRecord] = []
    public internal(set) var counters = SimulationCounters()
    var network: NetworkModel
    public internal(set) var leaders: [LeaderSpan] = []
    public internal(set) var faultLevels: [FaultLevel] = []
    public internal(set) var transactions: [UInt64: [NodeID: Bool]] = [:]
    var inDoubt = InDoubtTracker()

    /// Called after every backend step with the node that stepped: tests check invariants here.
    public var afterStep: ((Simulation<Backend>, NodeID) -> Void)?
    /// Called for every protocol message a node hands to the network (sender, receiver, message,
    /// departure time), before loss or cuts apply: experiments time protocol rounds with it.
    public var afterSend: ((NodeID, NodeID, Backend.Message, Instant) -> Void)?

    var queue = EventQueue<Event>()
    var nodes: [Node] = []
    var clients: [Client] = []
    var nodeSources: [OperationSource] = []
    var networkRandom: DeterministicRandom
    /// Resolves fault targets and shapes, drawing from the run seed's `faults` stream.
    var faultResolver: FaultResolver
    var triggers: [ArmedTrigger] = []
    /// Per fired step, the node at which its trigger fired.
    var eventNodes: [Int: Int] = [:]
    var workloadOpen = true
    var lastCoordinator: Int?
    /// Whether any node has reported a role: protocols without leaders never do.
    var reportsRoles = false
    /// Message kinds dropped per directed link (`from * nodes + to`), by the `drop` fault.
    var droppedKinds: [Int: Set<String>] = [:]
    /// Fault steps already reported as waiting for their target.
    var deferredSteps: Set<Int> = []
    /// Records messages one by one when the configuration asks for a trace (`conlab replay`).
    /// The paths every message takes test `config.messageTrace` (plain fields) instead, to cost
    /// next to nothing when tracing is off.
    var tracer: MessageTracer?
    let workloadEnd: Instant
    let drainEnd: Instant
    let end: Instant

    enum Event {
        case message(from: Int, to: Int, Backend.Message)
        case request(client: Int, to: Int, ClientRequest)
        case reply(from: Int, client: Int, ClientReply)
        case tick(node: Int)
        case nodeReady(node: Int)
        case flush(node: Int, incarnation: Int)
        /// The node's disk finished a sync: the writes and outputs of the node's oldest pending
        /// release mark become durable and leave (`Simulation+Disk.swift`).
        case release(node: Int, incarnation: Int)
        /// A fault the protocol itself exhibits (`LabBackend.inject`), delivered as an input of its
        /// own: a fault triggered inside a step never steps a node from within that step.
        case inject(node: Int, InjectedFault)
        case start(node: Int)
        case clientWake(client: Int, generation: UInt64)
        case arrival(node: Int)
        case fault(step: Int)
        case endWorkload
        case endDrain
    }

    /// What a node takes in, one step each, in arrival order: a protocol input, or a fault the
    /// scenario asks the protocol itself to exhibit.
    enum Delivery {
        case input(Input<Backend.Message>)
        case fault(InjectedFault)
    }

    /// The node whose step is computing outputs, when the disk model may hold them (fsync on).
    var holding: Int?

    typealias Host = NodeHost<Backend, SimulatedStorage<Backend.Entry, Backend.HardState>, Held>

    struct Node {
        /// The backend, its storage and its durability gate; the fields below are the simulator's
        /// plugs around it (inbox, CPU, clock, disk timing).
        var host: Host
        var started = false
        var paused = false
        var inbox = FIFOQueue<Delivery>()
        var readyScheduled = false
        var busyUntil: Instant = .zero
        var lastDeparture: Instant = .zero
        var diskFreeAt: Instant = .zero
        /// Syncs under way: when each completes and what it covers, oldest first.
        var pendingReleases = FIFOQueue<(time: Instant, mark: ReleaseMark)>()
        var flushScheduled = false
        var slowFactor = 1.0
        var clock = NodeClock()
        var scheduledTick: Instant?
        var role: Role?
        var term: UInt64 = 0
        /// The term of the last leadership whose first commit went to `events.csv`.
        var firstCommitTerm: UInt64?
        /// Draws of the node's processing time and timer slack, when they are random.
        var cpuRandom: DeterministicRandom
        var slack: (deadline: Instant, delay: TimeSpan)?

        var isUp: Bool { host.isUp }
        var backend: Backend? { host.backend }
        var hasInbox: Bool { !inbox.isEmpty }
    }

    public init(config: SimulationConfig, options: Backend.Options = .init()) {
        self.config = config
        self.options = options
        cluster = NodeID.cluster(config.nodes)
        network = NetworkModel(nodeCount: config.nodes, profile: config.network, clientProfile: config.clientLink)
        networkRandom = DeterministicRandom(seed: config.seed, label: "network")
        faultResolver = FaultResolver(seed: config.seed)
        tracer = config.messageTrace.map(MessageTracer.init)
        workloadEnd = config.workloadEnd
        drainEnd = config.drainEnd
        end = config.end
        nodes = cluster.prefix(config.nodes).map { [cluster, options] id in
            Node(host: Host(id: id, cluster: cluster, options: options,
                            storage: SimulatedStorage(model: config.storage, seed: DeterministicRandom.derive(config.seed, "disk-n\(id.index + 1)")),
                            waitsForDisk: config.storage.fsync),
                 cpuRandom: DeterministicRandom(seed: config.seed, label: "cpu-n\(id.index + 1)"))
        }
        faultLevels = [.none]
        leaders = [.none]
        for node in cluster {
            queue.schedule(.start(node: node.index), at: config.startTimes[node] ?? .zero)
        }
        scheduleFaults()
        startWorkload()
        queue.schedule(.endWorkload, at: workloadEnd)
        queue.schedule(.endDrain, at: drainEnd)
    }

    // MARK: Running

    /// Runs the whole scenario: workload, faults, drain, heal and quiescence.
    public func run() -> SimulationResult {
        run(until: end)
        return result
    }

    /// Processes every event up to and including `time`, then sets the clock to `time`.
    public func run(until time: Instant) {
        while let next = queue.nextTime, next <= time {
            let (at, event) = queue.pop()!
            now = at
            counters.events += 1
            handle(event)
        }
        now = max(now, time)
    }

    public func run(for duration: TimeSpan) { run(until: now + duration) }

    public var result: SimulationResult {
        var states: [NodeID: [String: String]] = [:]
        var leadership: [NodeID: Leadership] = [:]
        for node in cluster {
            guard let backend = nodes[node.index].backend else { continue }
            if let data = backend.appliedData { states[node] = data }
            if let view = backend.leadership { leadership[node] = view }
        }
        let waits = InDoubtSpan.excludingDownTime(inDoubt.spans, events)
        return SimulationResult(history: history, events: InDoubtSpan.merge(waits, into: events, end: end), counters: counters,
                                finalStates: states, finalLeadership: leadership, transactions: transactions, leaders: leaders,
                                faultLevels: faultLevels, workloadEnd: workloadEnd, end: end, inDoubt: waits, messageTrace: tracer?.trace)
    }

    /// Takes the event over: its message moves into the node's input instead of being copied.
    func handle(_ event: consuming Event) {
        switch consume event {
        case .message(let from, let to, let message):
            if config.messageTrace != nil, from != to { traceArrival(message, from: from, to: to) }
            guard network.canReach(from, to) else { counters.messagesDropped += 1; return }
            deliver(.input(.receive(from: cluster[from], message: message)), to: to)
        case .request(let client, let to, let request):
            guard network.clientLinkUp(home: clients[client].home, node: to, toNode: true) else { return }
            deliver(.input(.client(request)), to: to)
        case .reply(let from, let client, let reply):
            guard network.clientLinkUp(home: clients[client].home, node: from, toNode: false) else { return }
            receive(reply, from: from, client: client)
        case .tick(let node):
            tick(node)
        case .nodeReady(let node):
            nodes[node].readyScheduled = false
            drainInbox(node)
        case .flush(let node, let incarnation):
            flush(node, incarnation: incarnation)
        case .release(let node, let incarnation):
            release(node, incarnation: incarnation)
        case .inject(let node, let fault):
            deliver(.fault(fault), to: node)
        case .start(let node):
            if !nodes[node].started { restart(node) }
        case .clientWake(let client, let generation):
            guard clients[client].generation == generation else { return }
            wake(client)
        case .arrival(let node):
            arrival(at: node)
        case .fault(let step):
            fire(step: step)
        case .endWorkload:
            workloadOpen = false
        case .endDrain:
            if config.healAtEnd { healEverything() }
        }
    }

    // MARK: Node inputs

    /// An input reaches a node: processed now if the node is idle, queued if it is busy or paused,
    /// lost if it is down.
    func deliver(_ input: consuming Delivery, to node: Int) {
        guard nodes[node].isUp else {
            if case .input(.receive) = input { counters.messagesDropped += 1 }
            return
        }
        if nodes[node].paused || nodes[node].busyUntil > now || nodes[node].hasInbox {
            nodes[node].inbox.append(input)
            scheduleReady(node)
        } else {
            step(node, input)
        }
    }

    func scheduleReady(_ node: Int) {
        guard !nodes[node].paused, !nodes[node].readyScheduled, nodes[node].hasInbox else { return }
        nodes[node].readyScheduled = true
        queue.schedule(.nodeReady(node: node), at: max(now, nodes[node].busyUntil))
    }

    func drainInbox(_ node: Int) {
        guard nodes[node].isUp, !nodes[node].paused, nodes[node].busyUntil <= now, nodes[node].hasInbox else {
            scheduleReady(node)
            return
        }
        step(node, nodes[node].inbox.popFirst()!)
        scheduleReady(node)
    }

    func tick(_ node: Int) {
        guard nodes[node].scheduledTick == now else { return }
        nodes[node].scheduledTick = nil
        guard let backend = nodes[node].backend, !nodes[node].paused else { return }
        if let deadline = backend.nextDeadline, nodes[node].clock.global(deadline) <= now {
            deliver(.input(.tick), to: node)
        } else {
            rescheduleTick(node)
        }
    }

    func rescheduleTick(_ node: Int) {
        guard let deadline = nodes[node].backend?.nextDeadline, !nodes[node].paused else { return }
        let at = max(now, nodes[node].clock.global(deadline) + timerSlack(node, for: deadline))
        if let scheduled = nodes[node].scheduledTick, scheduled <= at { return }
        nodes[node].scheduledTick = at
        queue.schedule(.tick(node: node), at: at)
    }

    /// Runs one backend step and carries out its effects: storage first (synced unless the disk is
    /// configured unsafe), then messages and replies, which leave once the step's CPU time and fsync
    /// are done.
    func step(_ node: Int, _ input: consuming Delivery) {
        // Steps never nest: nothing below steps a node synchronously (an injected fault is an event
        // of its own), so the outputs handled here are exactly this step's.
        precondition(holding == nil, "a step of \(cluster[node]) began inside another step")
        // Triggers first: binding the message copies it, and most runs have no trigger.
        if !triggers.isEmpty, case .input(.receive(let from, let message)) = copy input {
            checkMessageTriggers(received: true, kind: message.kind.rawValue, node: node, peer: from.index)
            guard nodes[node].isUp else { return }
            if nodes[node].paused {
                nodes[node].inbox.prepend(input)
                return
            }
        }
        do {
            switch input {
            case .input(let input): try nodes[node].host.step(input, at: nodes[node].clock.local(now))
            case .fault(let fault): try nodes[node].host.inject(fault, at: nodes[node].clock.local(now))
            }
        } catch {
            // A backend asked for something its own log contradicts: a protocol bug, made loud.
            preconditionFailure("\(Backend.protocolName) node \(cluster[node]) issued an invalid storage operation: \(error)")
        }
        counters.steps += 1
        nodes[node].busyUntil = now + processingCost(node).scaled(by: nodes[node].slowFactor)
        let computed = nodes[node].busyUntil
        var departure = computed
        if nodes[node].host.wrote { departure = diskDone(node, after: departure) }
        departure = max(departure, nodes[node].lastDeparture)
        nodes[node].lastDeparture = departure
        // This step's outputs, as a value: the host's buffer is the node's own.
        let effects = nodes[node].host.effects
        // Outputs leave only once everything written before them is on disk (Simulation+Disk).
        // A fault triggered by one of them may crash the node mid-step: the release belongs to
        // the incarnation that computed them.
        let incarnation = nodes[node].host.incarnation
        holding = config.storage.fsync ? node : nil
        defer { holding = nil }
        if !effects.events.isEmpty { observe(node, effects.events) }
        for outgoing in effects.messages {
            guard nodes[node].isUp else { break }
            let to = outgoing.to.index
            // A node's acknowledgement of its own write: back to it once durable, not via the network.
            if to == node {
                output(.message(from: node, to: node, outgoing.message), at: departure)
                continue
            }
            let afterWrites = outgoing.departure == .afterWrites
            if !triggers.isEmpty {
                checkMessageTriggers(received: false, kind: outgoing.message.kind.rawValue, node: node, peer: to)
                guard nodes[node].isUp else { break }
            }
            send(outgoing.message, from: node, to: to, at: afterWrites ? departure : computed, afterWrites: afterWrites)
        }
        if nodes[node].isUp {
            for reply in effects.replies { send(reply, from: node, at: departure) }
            rescheduleTick(node)
        }
        if holding != nil, nodes[node].host.incarnation == incarnation, let mark = nodes[node].host.seal() {
            scheduleRelease(node, mark, at: departure)
        }
        holding = nil
        afterStep?(self, cluster[node])
    }

    /// How late the timer for `deadline` fires: drawn once per deadline from `timerSlack`.
    func timerSlack(_ node: Int, for deadline: Instant) -> TimeSpan {
        guard let slack = config.timerSlack else { return .zero }
        if let drawn = nodes[node].slack, drawn.deadline == deadline { return drawn.delay }
        let delay = slack.sample(&nodes[node].cpuRandom)
        nodes[node].slack = (deadline, delay)
        return delay
    }

    func processingCost(_ node: Int) -> TimeSpan {
        if case .fixed(let cost) = config.processingTime { return cost }
        return config.processingTime.sample(&nodes[node].cpuRandom)
    }

    /// When the sync of the step's writes completes (the disk serialises syncs); with the unsafe
    /// disk, the outputs do not wait and a flush is due.
    func diskDone(_ node: Int, after ready: Instant) -> Instant {
        guard config.storage.fsync else {
            scheduleFlush(node)
            return ready
        }
        let start = max(ready, nodes[node].diskFreeAt)
        nodes[node].diskFreeAt = start + config.storage.syncLatency
        return nodes[node].diskFreeAt
    }

    func scheduleFlush(_ node: Int) {
        guard !nodes[node].flushScheduled else { return }
        nodes[node].flushScheduled = true
        queue.schedule(.flush(node: node, incarnation: nodes[node].host.incarnation), at: now + config.storage.flushInterval)
    }

    func flush(_ node: Int, incarnation: Int) {
        guard nodes[node].host.incarnation == incarnation else { return }
        nodes[node].flushScheduled = false
        try? nodes[node].host.flush()
    }

    /// Hands a message to the network; `afterWrites` says whether it waits for the node's writes.
    func send(_ message: Backend.Message, from: Int, to: Int, at departure: Instant, afterWrites: Bool) {
        counters.messagesSent += 1
        counters.bytesSent += message.byteCount
        afterSend?(cluster[from], cluster[to], message, departure)
        if !droppedKinds.isEmpty, droppedKinds[from * config.nodes + to]?.contains(message.kind.rawValue) == true {
            counters.messagesDropped += 1
            if config.messageTrace != nil { traceSending(message, from: from, to: to, at: departure, arrivals: []) }
            return
        }
        let deliveries = network.transmitBetweenNodes(from: from, to: to, at: departure, random: &networkRandom)
        if config.messageTrace != nil { traceSending(message, from: from, to: to, at: departure, arrivals: [deliveries.first, deliveries.second].compactMap { $0 }) }
        guard let first = deliveries.first else { counters.messagesDropped += 1; return }
        output(.message(from: from, to: to, message), at: first, countsAsDrop: true, afterWrites: afterWrites)
        if let second = deliveries.second { output(.message(from: from, to: to, message), at: second, afterWrites: afterWrites) }
    }

    // MARK: Observations

    func observe(_ node: Int, _ events: [ObservableEvent]) {
        for event in events {
            switch event {
            case .role(let role, let term, let name):
                reportsRoles = true
                nodes[node].role = role
                nodes[node].term = term
                record(node: node, .role(role, term: term, name: name))
                updateLeader()
                if !triggers.isEmpty { checkTriggers(.role(role), node: node) }
            case .committed(let index):
                recordFirstCommit(node, index)
                if !triggers.isEmpty { checkTriggers(.committed(index), node: node) }
            case .coordinating:
                lastCoordinator = node
            case .decided(let transaction, let commit):
                transactions[transaction, default: [:]][cluster[node]] = commit
                inDoubt.decided(transaction, at: cluster[node], time: now)
            case .prepared(let transaction, let key):
                inDoubt.prepared(transaction, key: key, at: cluster[node], time: now)
            case .note(let kind, let detail):
                record(node: node, .note(kind: kind, detail: detail))
            case .violation(let violation):
                record(node: node, .violation(violation))
            }
        }
    }

    /// A leader's first commit in its term goes to `events.csv`: the moment it can serve (Raft
    /// §8: a new leader learns what is committed by committing an entry of its own term). Every
    /// later commit would drown the file; `commit` triggers still see them all.
    func recordFirstCommit(_ node: Int, _ index: LogIndex) {
        guard nodes[node].role == .leader, nodes[node].firstCommitTerm != nodes[node].term else { return }
        nodes[node].firstCommitTerm = nodes[node].term
        record(node: node, .firstCommit(index: index, term: nodes[node].term))
    }

    func record(node: Int?, _ event: SimulationEvent) {
        events.append(EventRecord(time: now, node: node.map { cluster[$0] }, event: event))
    }

    /// The leader as a client would find it: among live nodes that say they lead, the highest term.
    public var currentLeader: NodeID? { currentLeaderIndex.map { cluster[$0] } }

    var currentLeaderIndex: Int? {
        ClusterView.leaderIndex(up: nodes.map(\.isUp), roles: nodes.map(\.role), terms: nodes.map(\.term))
    }

    func updateLeader() {
        let leader = currentLeaderIndex
        let term = leader.map { nodes[$0].term } ?? 0
        guard let counts = LeaderSpan.note(leader.map { cluster[$0] }, term: term, at: now, in: &leaders) else { return }
        if counts { counters.leaderChanges += 1 }
        record(node: nil, .leader(leader.map { cluster[$0] }, term: term))
    }

    // MARK: Inspection (for tests)

    package func backend(_ node: NodeID) -> Backend? { nodes[node.index].backend }

    package func isUp(_ node: NodeID) -> Bool { nodes[node.index].isUp }

    /// The node's storage under the memory engine.
    package func storage(_ node: NodeID) -> MemoryStorage<Backend.Entry, Backend.HardState> {
        guard let memory = nodes[node.index].host.storage.memory else { preconditionFailure("\(node) runs on the file engine") }
        return memory
    }

    /// The node's simulated disk under the file engine.
    package func disk(_ node: NodeID) -> SimulatedFileSystem? { nodes[node.index].host.storage.disk?.fileSystem }
}
