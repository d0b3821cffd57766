import ConsensusCore
import Foundation
import Glibc
import Lab
import Runtime
import Server
import Simulator

/// One run of a scenario against real processes: the cluster started, the clients and the fault
/// timeline in wall-clock time, everything healed for quiescence, the replicas' states read, the
/// cluster stopped; what it recorded as the simulator records it (`SimulationResult`), so the
/// lab's checker, metrics and report files serve both drivers.
///
/// Fault steps resolve as in the simulator (`FaultResolver`: role targets, random targets and
/// partition shapes from the seed's `faults` stream); the cluster view they resolve against comes
/// from the nodes' own role reports, read over their admin channels every `pollInterval` and
/// right before a step fires.
final class RealRun {
    static let pollInterval = TimeSpan.milliseconds(100)
    /// How often a step whose role target has no holder yet is tried again (as in the simulator).
    static let deferredRetry = TimeSpan.milliseconds(10)

    let config: SimulationConfig
    let cluster: any RealCluster
    private var resolver: FaultResolver
    private var network: NetworkModel
    private var droppedKinds: [Int: Set<String>] = [:]
    private var paused: [Bool]
    private var slowFactor: [Double]
    private var clockRate: [Double]
    private var roles: [Role?]
    private var terms: [UInt64]
    private var reportsRoles = false
    private var coordinator: Int?
    private var events: [EventRecord] = []
    private var faultLevels: [FaultLevel] = [.none]
    private var transactions: [UInt64: [NodeID: Bool]] = [:]
    private var inDoubt = InDoubtTracker()
    private var origin = MonotonicClock.now()
    /// Where a `disk` bit flip lands.
    private var diskRandom: DeterministicRandom
    /// The last setting sent to each node per command and peer (`drop n2` → the line), so a fault
    /// sends only what changed; a restarted node has forgotten everything.
    private var sent: [[String: String]]
    /// Timed steps still to fire (and deferred ones), with their times.
    private var agenda: [(time: Instant, step: Int)] = []
    /// Per fired step, the node at which its trigger fired.
    private var eventNodes: [Int: Int] = [:]
    /// Armed event triggers by step, with the matching events seen so far.
    private var armed: [Int: (trigger: Trigger, seen: Int)] = [:]
    /// A node stopped at a trigger while the runner handles it: not to be asked anything.
    private var held: Int?
    /// Steps already reported as waiting for their role target.
    private var deferred: Set<Int> = []
    /// How often the runner looks for a node stopped at a trigger while any is armed.
    static let triggerCheck = TimeSpan.milliseconds(2)

    /// `config`: what runs on this cluster — a scenario's run under a seed, or a sharded run's
    /// part of it for one group (`ShardedRun.config`).
    init(config: SimulationConfig, cluster: any RealCluster) {
        self.cluster = cluster
        self.config = config
        let n = config.nodes
        resolver = FaultResolver(seed: config.seed)
        network = NetworkModel(nodeCount: n, profile: config.network, clientProfile: config.clientLink)
        paused = Array(repeating: false, count: n)
        slowFactor = Array(repeating: 1, count: n)
        clockRate = Array(repeating: 1, count: n)
        roles = Array(repeating: nil, count: n)
        terms = Array(repeating: 0, count: n)
        sent = Array(repeating: [:], count: n)
        diskRandom = DeterministicRandom(seed: config.seed, label: "real-disk")
    }

    private var now: Instant { .zero + (MonotonicClock.now() - origin) }
    private var drainEnd: Instant { .zero + config.duration + config.workload.timeout + .milliseconds(1) }

    /// Carries the run out; the cluster is the caller's to stop.
    func run() throws -> SimulationResult {
        try startNodes()
        begin(at: MonotonicClock.now())
        let clients = try cluster.startClients(config, origin: origin)
        do {
            try followFaults()
        } catch {
            _ = clients.finish()
            throw error
        }
        return result(history: clients.finish())
    }

    /// Starts the nodes that start at time 0 (those of a staggered start come up at their time,
    /// `followTimeline`), arms their triggers, and sets the scenario's own network (latency, loss,
    /// duplication, reordering): it holds from the start, not only once a fault has changed it.
    func startNodes() throws {
        for (step, fault) in config.faults.enumerated() {
            if case .on(let trigger) = fault.when { armed[step] = (trigger, 0) }
        }
        origin = MonotonicClock.now()
        for node in 0..<config.nodes where !late.contains(node) {
            try cluster.start(node)
            cluster.admin(node, "record")
            arm(node)
        }
        try pushAll()
    }

    private var late: Set<Int> { Set(config.startTimes.keys.map(\.index)) }

    /// The run's time 0 is `origin` (a sharded run's groups share one): the nodes started so far
    /// are recorded as started at it.
    func begin(at origin: Instant) {
        self.origin = origin
        for node in 0..<config.nodes where !late.contains(node) { record(node: node, .processStarted(pid: cluster.pids[node]!, restart: false)) }
    }

    /// The fault timeline until the drain ends, then every fault undone and quiescence waited out.
    func followFaults() throws {
        try followTimeline()
        try healEverything()
        wait(until: drainEnd + config.quiescence)
    }

    /// The run as the simulator records it, with the clients' `history`; the nodes are read a last time.
    func result(history: [HistoryOperation]) -> SimulationResult {
        poll()
        let states = cluster.finalStates()
        var counters = SimulationCounters()
        counters.messagesMeasured = false
        let end = drainEnd + config.quiescence
        let waits = InDoubtSpan.excludingDownTime(inDoubt.spans, events)
        let (events, leaders) = withLeaders(InDoubtSpan.merge(waits, into: events, end: end), counters: &counters)
        return SimulationResult(history: history, events: events, counters: counters, finalStates: states, finalLeadership: [:],
                                transactions: transactions, leaders: leaders, faultLevels: faultLevels,
                                workloadEnd: .zero + config.duration, end: end, inDoubt: waits)
    }

    /// The node the nodes' last role reports make leader (as of the last poll); nil when none is.
    var leader: Int? { ClusterView.leaderIndex(up: (0..<config.nodes).map(cluster.isRunning), roles: roles, terms: terms) }

    // MARK: The timeline

    /// Fires the timed steps at their times (in wall-clock time since the run began), polling
    /// the nodes meanwhile, until the drain ends.
    private func followTimeline() throws {
        agenda = config.faults.enumerated().compactMap { index, step in
            guard case .at(let time) = step.when else { return nil }
            return (time, index)
        }
        var lastPoll = Instant.zero
        // Triggers are set in the nodes from their `after` on: before it no event counts, and a
        // node stops at every event an armed trigger matches.
        var unarmed = armed.filter { $0.value.trigger.notBefore > .zero }.map { (time: $0.value.trigger.notBefore, step: $0.key) }
        var starts = config.startTimes.map { (time: $0.value, node: $0.key.index) }
        while now < drainEnd {
            for start in starts where start.time <= now && !cluster.started[start.node] { try restart(start.node) }
            starts.removeAll { $0.time <= now }
            for entry in unarmed where entry.time <= now {
                for node in 0..<config.nodes where cluster.isRunning(node) && !paused[node] { armStep(entry.step, in: node) }
            }
            unarmed.removeAll { $0.time <= now }
            if !armed.isEmpty { try checkTriggers() }
            agenda.sort { ($0.time, $0.step) < ($1.time, $1.step) }
            if let next = agenda.first, next.time <= now {
                agenda.removeFirst()
                poll()
                lastPoll = now
                let action = config.faults[next.step].action
                guard try !perform(action, eventNode: eventNodes[next.step]) else { continue }
                if deferred.insert(next.step).inserted { record(node: nil, .faultDeferred(action)) }
                agenda.append((now + Self.deferredRetry, next.step))
                continue
            }
            if now >= lastPoll + Self.pollInterval {
                poll()
                lastPoll = now
            }
            var wake = min(agenda.first?.time ?? drainEnd, lastPoll + Self.pollInterval, drainEnd, unarmed.map(\.time).min() ?? drainEnd,
                           starts.map(\.time).min() ?? drainEnd)
            if !armed.isEmpty { wake = min(wake, now + Self.triggerCheck) }
            sleep(until: wake)
        }
        releaseTriggers()
    }

    /// After the timeline no trigger counts: every node forgets its triggers, and one stopped at
    /// a trigger goes on (a node may stop between the two, so this repeats until none is stopped).
    private func releaseTriggers() {
        let steps = armed.keys.sorted()
        armed.removeAll()
        guard !steps.isEmpty else { return }
        var disarmed = Set<Int>()
        for _ in 0..<3 {
            for node in 0..<config.nodes where cluster.isRunning(node) && !paused[node] {
                if cluster.isStopped(node) {
                    _ = cluster.takeTrigger(node)
                    cluster.wake(node, applying: [])
                }
                if !disarmed.contains(node), steps.allSatisfy({ cluster.admin(node, "disarm \($0)") != nil }) { disarmed.insert(node) }
            }
        }
    }

    // MARK: Triggers

    /// Sets every armed trigger in node `node` (at its start: a restarted node has forgotten them).
    private func arm(_ node: Int) {
        for (step, entry) in armed where entry.trigger.notBefore <= now { armStep(step, in: node) }
    }

    /// Sets `step`'s trigger in `node`, unless the trigger names another node: an event there
    /// never counts, and every stop costs the node a round trip to the runner.
    private func armStep(_ step: Int, in node: Int) {
        if let line = armLine(step, in: node) { cluster.admin(node, line) }
    }

    /// The admin line that arms `step`'s trigger in `node`; nil when it is not to be armed there.
    private func armLine(_ step: Int, in node: Int) -> String? {
        guard let entry = armed[step] else { return nil }
        if case .id(let wanted)? = entry.trigger.node, wanted.index != node { return nil }
        let (kind, value): (String, String)
        switch entry.trigger.event {
        case .sent(let messageKind): (kind, value) = ("sent", messageKind)
        case .received(let messageKind): (kind, value) = ("received", messageKind)
        case .role(let role): (kind, value) = ("role", role.rawValue)
        case .committed(let index): (kind, value) = ("committed", String(index))
        }
        return "arm \(step) \(kind) \(value)"
    }

    /// A node that stopped itself at an armed trigger: count the event as the simulator does
    /// (only from `after` on, only at the trigger's node), and on the wanted occurrence apply the
    /// step — while the node is still stopped, so a crash kills it before the message leaves.
    private func checkTriggers() throws {
        for node in 0..<config.nodes where cluster.isRunning(node) && !paused[node] && cluster.isStopped(node) {
            guard let (step, eventTime) = cluster.takeTrigger(node) else { continue }
            held = node
            defer { held = nil }
            if let entry = armed[step], try count(step, entry, node: node) {
                armed[step] = nil
                eventNodes[step] = node
                events.append(EventRecord(time: max(.zero, .zero + (eventTime - origin)), node: NodeID(node + 1), event: .triggerFired(step: step)))
                let trigger = entry.trigger
                if trigger.delay > .zero {
                    agenda.append((now + trigger.delay, step))
                } else if try !perform(config.faults[step].action, eventNode: node) {
                    if deferred.insert(step).inserted { record(node: nil, .faultDeferred(config.faults[step].action)) }
                    agenda.append((now + Self.deferredRetry, step))
                }
                held = nil
                for other in 0..<config.nodes where other != node { cluster.admin(other, "disarm \(step)") }
            }
            held = nil
            // Not killed, not paused by the step: the node goes on (its message leaves now). What it
            // must know first — the step's new filter, its trigger again if this event did not fire
            // it (a node disarms a trigger it stops at) — it reads as it wakes, before the rest of the
            // step's messages leave: over the admin channel it would read them only after.
            if cluster.isRunning(node), !paused[node] {
                let settings = changedSettings(node)
                for (key, line) in settings { sent[node][key] = line }
                cluster.wake(node, applying: settings.map(\.line) + [armLine(step, in: node)].compactMap { $0 })
            }
        }
    }

    /// Counts one matching event of `step`'s trigger at `node`; whether it is the one that fires.
    private func count(_ step: Int, _ entry: (trigger: Trigger, seen: Int), node: Int) throws -> Bool {
        let trigger = entry.trigger
        guard now >= trigger.notBefore else { return false }
        // A node meeting a coordinator's event (sending COMMIT) is coordinating that transaction;
        // which node began one most recently is known here only up to a poll's lag, so the node
        // at the event is taken as the coordinator.
        if trigger.node == .coordinator { coordinator = node }
        if let wanted = trigger.node {
            let up = (0..<config.nodes).map(cluster.isRunning)
            let view = ClusterView(up: up, paused: paused, leader: ClusterView.leaderIndex(up: up, roles: roles, terms: terms),
                                   reportsRoles: reportsRoles, coordinator: coordinator)
            guard let resolved = resolver.resolve(wanted, in: view), resolved.contains(node) else { return false }
        }
        armed[step]!.seen += 1
        return armed[step]!.seen >= trigger.occurrence
    }

    private func wait(until time: Instant) {
        while now < time {
            poll()
            sleep(until: min(time, now + Self.pollInterval))
        }
    }

    private func sleep(until time: Instant) {
        let left = time - now
        if left > .zero { usleep(UInt32(clamping: left.microseconds)) }
    }

    /// Carries out `action` (of a step fired by a trigger at `eventNode`) on the processes; false
    /// when a role target has no holder yet.
    private func perform(_ action: FaultAction, eventNode: Int? = nil) throws -> Bool {
        // The step's time is when it began: telling the nodes takes a few round trips.
        let time = now
        let up = (0..<config.nodes).map(cluster.isRunning)
        let view = ClusterView(up: up, paused: paused, leader: ClusterView.leaderIndex(up: up, roles: roles, terms: terms),
                               reportsRoles: reportsRoles, coordinator: coordinator, eventNode: eventNode)
        guard let targets = resolver.apply(action, in: view, network: &network, droppedKinds: &droppedKinds) else { return false }
        var cutsLinks = false
        switch action {
        case .partition, .partitionShape, .oneWay:
            cutsLinks = true
            try pushAll()
        case .drop, .heal, .network, .restoreNetwork:
            try pushAll()
        case .pause:
            for node in targets where !paused[node] { cluster.pause(node); paused[node] = true }
        case .resume:
            for node in targets where paused[node] { cluster.resume(node); paused[node] = false; push(node) }
        case .slow(_, let factor):
            for node in targets { slowFactor[node] = factor; push(node) }
        case .clockRate(_, let rate):
            for node in targets { clockRate[node] = rate; push(node) }
        case .crash, .restart:
            break
        case .disk:
            for node in targets where cluster.isRunning(node) {
                if let detail = cluster.flipBit(node, random: &diskRandom) { record(node: node, .note(kind: "bit-flip", detail: detail)) }
            }
        case .inject(_, .reject(let phase, let count)):
            for node in targets where cluster.isRunning(node) { cluster.admin(node, "inject reject \(phase ?? "-") \(count)") }
        }
        events.append(EventRecord(time: time, node: nil, event: .fault(action, targets: targets.map { NodeID($0 + 1) },
                                                                       reachability: cutsLinks ? network.reachability : nil)))
        if case .crash = action { for node in targets { crash(node) } }
        if case .restart = action { for node in targets where !cluster.isRunning(node) { try restart(node) } }
        noteFaultLevel(action.description)
        return true
    }

    private func crash(_ node: Int) {
        guard let pid = cluster.pids[node] else { return }
        cluster.kill(node)
        paused[node] = false
        roles[node] = nil
        record(node: node, .processKilled(pid: pid))
    }

    /// Starts the node again on its data directory; one that refuses its log (a corrupt record)
    /// stays down, as in the simulator.
    private func restart(_ node: Int) throws {
        let restarted = cluster.started[node], time = now
        let pid: pid_t
        do {
            pid = try cluster.start(node)
        } catch let refused as ProcessCluster.Refused {
            return record(node: node, .restartFailed(reason: refused.reason))
        }
        sent[node] = [:]
        cluster.admin(node, "record")
        arm(node)
        // At the moment the process was started: it takes a few tens of milliseconds to come up.
        events.append(EventRecord(time: time, node: NodeID(node + 1), event: .processStarted(pid: pid, restart: restarted)))
        push(node)
    }

    /// Undoes every fault at the end of the drain, as the simulator does before quiescence.
    private func healEverything() throws {
        let anythingActive = faultLevels.last!.active > 0 || (0..<config.nodes).contains { !cluster.isRunning($0) && cluster.started[$0] }
        network.heal()
        droppedKinds.removeAll()
        network.restoreProfiles()
        try pushLinks()
        for node in 0..<config.nodes {
            slowFactor[node] = 1
            clockRate[node] = 1
            if paused[node] { cluster.resume(node); paused[node] = false }
            if !cluster.isRunning(node) { try restart(node) } else { push(node) }
        }
        if anythingActive { record(node: nil, .healedForQuiescence) }
        noteFaultLevel("healed for quiescence")
    }

    private func noteFaultLevel(_ description: String) {
        let states = (0..<config.nodes).map { node in
            NodeFaultState(crashed: !cluster.isRunning(node) && cluster.started[node], paused: paused[node], slowed: slowFactor[node] != 1, clockChanged: clockRate[node] != 1)
        }
        let last = faultLevels[faultLevels.count - 1], time = now
        guard let level = FaultLevel.next(after: last, at: time, description: description, network: network, droppedKinds: droppedKinds,
                                          up: (0..<config.nodes).map(cluster.isRunning), nodes: states) else { return }
        if last.start == time { faultLevels.removeLast() }
        faultLevels.append(level)
    }

    // MARK: Talking to the nodes

    /// Sets every node's fault state, and the links of a cluster cut from outside (a proxy).
    private func pushAll() throws {
        for node in 0..<config.nodes { push(node) }
        try pushLinks()
    }

    /// A node's traffic with itself (a Redis client and its own node's server) crosses no link.
    private func pushLinks() throws {
        let nodes = 0..<config.nodes
        try cluster.setLinks(reachable: nodes.map { from in nodes.map { to in network.canReach(from, to) } },
                         latency: nodes.map { from in nodes.map { to in from == to ? .fixed(.zero) : network.profile(from, to).latency } })
    }

    /// Sets node `node`'s whole fault state (a restarted node has forgotten it; a paused one is
    /// set when it resumes).
    private func push(_ node: Int) {
        // A node stopped at a trigger could not answer; it is set when the runner lets it go on.
        guard cluster.isRunning(node), !paused[node], held != node, !cluster.isStopped(node) else { return }
        for (key, line) in changedSettings(node) where cluster.admin(node, line) != nil { sent[node][key] = line }
    }

    /// The admin lines of node `node`'s whole fault state that differ from what it was last told,
    /// each with the setting it sets.
    private func changedSettings(_ node: Int) -> [(key: String, line: String)] {
        let n = config.nodes
        let cut = cluster.cutsLinksOutside ? [] : (0..<n).filter { $0 != node && !network.canReach(node, $0) }.map { "n\($0 + 1)" }
        var settings: [(String, [String])] = [("cut", ["cut"] + cut)]
        for peer in 0..<n where peer != node {
            settings.append(("drop n\(peer + 1)", ["drop", "n\(peer + 1)"] + (droppedKinds[node * n + peer] ?? []).sorted()))
            settings.append(("link n\(peer + 1)", ["link", "n\(peer + 1)"] + AdminProtocol.words(network.profile(node, peer))))
        }
        settings.append(("clock", ["clock", String(clockRate[node])]))
        // `slow` multiplies the scenario's processing time per input; the real input's own cost is the rest.
        let extra = (Double(config.processingTime.mean.microseconds) * (slowFactor[node] - 1)).rounded()
        settings.append(("slow", ["slow", String(Int64(max(extra, 0)))]))
        return settings.map { ($0.0, $0.1.joined(separator: " ")) }.filter { sent[node][$0.key] != $0.line }
    }

    /// Reads what each running node observed since the last poll.
    private func poll() {
        for node in 0..<config.nodes where cluster.isRunning(node) && !paused[node] && held != node && !cluster.isStopped(node) {
            for item in cluster.events(node) { observe(item, at: node) }
        }
    }

    private func observe(_ item: JSONValue, at node: Int) {
        guard case .array(let fields) = item, fields.count >= 2, let kind = fields[0].stringValue, case .number(let t) = fields[1] else { return }
        let time = max(Instant.zero, .zero + (Instant(microseconds: Int64(t)) - origin))
        let rest = Array(fields.dropFirst(2))
        switch kind {
        case "role":
            guard rest.count == 3, let role = rest[0].stringValue.flatMap(Role.init(rawValue:)), case .number(let term) = rest[1],
                  let name = rest[2].stringValue else { return }
            reportsRoles = true
            roles[node] = role
            terms[node] = UInt64(term)
            events.append(EventRecord(time: time, node: NodeID(node + 1), event: .role(role, term: UInt64(term), name: name)))
        case "coordinating":
            coordinator = node
        case "decided":
            guard rest.count == 2, let id = rest[0].stringValue.flatMap(UInt64.init), case .bool(let commit) = rest[1] else { return }
            transactions[id, default: [:]][NodeID(node + 1)] = commit
            inDoubt.decided(id, at: NodeID(node + 1), time: time)
        case "prepared":
            guard rest.count == 2, let id = rest[0].stringValue.flatMap(UInt64.init), let key = rest[1].stringValue else { return }
            inDoubt.prepared(id, key: key, at: NodeID(node + 1), time: time)
        case "violation":
            guard rest.count == 2, let rule = rest[0].stringValue.flatMap(SafetyRule.init(rawValue:)), let detail = rest[1].stringValue else { return }
            events.append(EventRecord(time: time, node: NodeID(node + 1), event: .violation(SafetyViolation(rule, detail))))
        case "note":
            guard rest.count == 2, let kind = rest[0].stringValue, let detail = rest[1].stringValue else { return }
            events.append(EventRecord(time: time, node: NodeID(node + 1), event: .note(kind: kind, detail: detail)))
        default:
            return
        }
    }

    private func record(node: Int?, _ event: SimulationEvent) {
        events.append(EventRecord(time: now, node: node.map { NodeID($0 + 1) }, event: event))
    }

    /// The events in time order with the cluster's leader changes among them, and the leader
    /// spans: as the simulator derives them, from role reports and crashes.
    private func withLeaders(_ recorded: [EventRecord], counters: inout SimulationCounters) -> ([EventRecord], [LeaderSpan]) {
        let sorted = recorded.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
        var up = Array(repeating: false, count: config.nodes), roles = [Role?](repeating: nil, count: config.nodes)
        var terms = [UInt64](repeating: 0, count: config.nodes)
        var spans: [LeaderSpan] = [.none]
        var result: [EventRecord] = []
        for record in sorted {
            result.append(record)
            guard let node = record.node?.index else { continue }
            switch record.event {
            case .role(let role, let term, _): up[node] = true; roles[node] = role; terms[node] = term
            case .processKilled: up[node] = false; roles[node] = nil
            case .processStarted: up[node] = true; continue
            default: continue
            }
            let leader = ClusterView.leaderIndex(up: up, roles: roles, terms: terms)
            let term = leader.map { terms[$0] } ?? 0
            guard let counts = LeaderSpan.note(leader.map { NodeID($0 + 1) }, term: term, at: record.time, in: &spans) else { continue }
            if counts { counters.leaderChanges += 1 }
            result.append(EventRecord(time: record.time, node: nil, event: .leader(leader.map { NodeID($0 + 1) }, term: term)))
        }
        return (result, spans)
    }
}

extension JSONValue {
    fileprivate var stringValue: String? {
        guard case .string(let text) = self else { return nil }
        return text
    }
}
