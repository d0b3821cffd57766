import ConsensusCore
import PrimaryBackup
import Raft
import ThreePhaseCommit
import TwoPhaseCommit
import Zab

/// Faults at protocol moments. A timing bug lives in a window of microseconds — between sending
/// COMMIT and syncing the decision, between granting a vote and syncing it, between a new leader's
/// UPTODATE and its first proposal — which a fault drawn at a random time almost never hits. So
/// the swarm also draws event-triggered steps (the `when` of a scenario file): a message type the
/// backend sends or receives (`vocabulary`), or a node taking the leader's role; at a node (the leader, the
/// coordinator, a named node, or any); the first few such events after a drawn time; and a delay
/// of nothing, microseconds or milliseconds before the fault strikes the same node.
extension HuntDraw {
    /// What a drawn moment does to its node: the fault, and the step that undoes it.
    enum Blow {
        /// Crash; pause; cut off from every other node; its clock runs at 0.5–2 times true time
        /// (as the nemesis's clock fault), e.g. a new leader's, whose lease then lasts longer.
        case crash, pause, isolate, clock

        /// Crashes most often: a crash between a step's write and its sync is what loses state.
        static func draw(_ random: inout DeterministicRandom) -> Blow {
            let u = random.nextUnit()
            return u < 0.4 ? .crash : u < 0.7 ? .isolate : u < 0.85 ? .pause : .clock
        }

        func fault(_ node: String, _ random: inout DeterministicRandom) -> (action: String, value: JSONValue) {
            switch self {
            case .crash: ("crash", .string(node))
            case .pause: ("pause", .string(node))
            case .isolate: ("partition", .object([("isolate", .string(node))]))
            case .clock: ("clock", .object([("node", .string(node)), ("rate", .number(((0.5 + random.nextUnit() * 1.5) * 100).rounded() / 100))]))
            }
        }

        func repair(_ node: String) -> (action: String, value: JSONValue) {
            switch self {
            case .crash: ("restart", .string("crashed"))
            case .pause: ("resume", .string("paused"))
            case .isolate: ("heal", .bool(true))
            case .clock: ("clock", .object([("node", .string(node)), ("rate", .number(1))]))
            }
        }
    }

    /// One or two triggered faults, each usually followed by its repair, fired by the same event
    /// some time later (a crash without one is a crash-stop; the quiescence restarts the node).
    /// Drawn from the generator `random` alone, so that the rest of a seed's scenario is drawn as
    /// before moments existed. `anywhere` decides whether a message moment is any node's: the
    /// fault then strikes whichever node met the event (`event-node`) — the voter that just sent
    /// its grant, the participant that just sent YES — which a named node or a role rarely is.
    static func moments(_ kind: BackendKind, nodes: Int, duration: TimeSpan, _ random: inout DeterministicRandom,
                        anywhere: inout DeterministicRandom) -> [HuntCase.Step] {
        guard !vocabulary(kind).isEmpty else { return [] }
        var steps: [HuntCase.Step] = []
        var previous: (moment: HuntCase.Moment, target: String, armed: TimeSpan)?
        for _ in 0..<random.uniform(1...2) {
            var (moment, target) = self.moment(kind, nodes: nodes, &random)
            if moment.event != "role", anywhere.chance(0.4) { (moment.node, target) = (nil, "event-node") }
            // From the start (the first election) or from a time within the run.
            var armed = random.chance(0.25) ? .zero : armedTime(within: duration, &random)
            // Or a second blow to the node of the first, at its moment, a little later: a leader
            // whose clock slowed is then cut off, a node cut off then crashes.
            if let first = previous, random.chance(0.5) {
                (moment, target, armed) = (first.moment, first.target, first.armed)
                moment.delay = moment.delay + delay(&random)
            }
            previous = (moment, target, armed)
            let blow = Blow.draw(&random)
            let fault = blow.fault(target, &random)
            steps.append(HuntCase.Step(at: armed, action: fault.action, value: fault.value, when: moment))
            guard random.chance(0.8) else { continue }
            // After the fault in file order: on one event the simulator counts later steps first,
            // so the repair is counted before the fault can take its node out of the selector.
            moment.delay = moment.delay + lasting(&random) + .microseconds(1)
            let repair = blow.repair(target)
            steps.append(HuntCase.Step(at: armed, action: repair.action, value: repair.value, when: moment))
        }
        return steps
    }

    /// A leader's clock slows to 0.5–0.95 of true time as it takes the role (or a little later),
    /// 0.1–1.5 s later it is cut off from every other node, and 0.3–2 s after that both are
    /// undone: while its slow clock says its lease holds, the others may elect a leader and take
    /// writes (a lease must end before any follower's election timer can, thesis §6.4.1).
    static func slowLeaderCutOff(duration: TimeSpan, _ random: inout DeterministicRandom) -> [HuntCase.Step] {
        let armed = armedTime(within: duration, &random)
        var moment = tookLeadership(occurrence: 1, after: random.chance(0.5) ? .zero : delay(&random))
        let rate = ((0.5 + random.nextUnit() * 0.45) * 100).rounded() / 100
        let node = "event-node"
        var steps = [HuntCase.Step(at: armed, action: "clock", value: .object([("node", .string(node)), ("rate", .number(rate))]), when: moment)]
        moment.delay = moment.delay + .milliseconds(Int64(random.uniform(100...1_500)))
        let cut = Blow.isolate.fault(node, &random)
        steps.append(HuntCase.Step(at: armed, action: cut.action, value: cut.value, when: moment))
        moment.delay = moment.delay + .milliseconds(Int64(random.uniform(300...2_000)))
        for (action, value) in [Blow.isolate.repair(node), Blow.clock.repair(node)] {
            steps.append(HuntCase.Step(at: armed, action: action, value: value, when: moment))
        }
        return steps
    }

    /// Whichever node sends one of the first vote replies after a drawn time crashes 0–50 µs
    /// later and restarts 10–500 µs after that: within the sync of its term and vote, and back
    /// before a second candidate of the same term asks it (Figure 2: both are persisted before
    /// the node answers; a node that forgot its vote may grant a second one in the term, §5.2).
    static func crashAfterGrant(duration: TimeSpan, _ random: inout DeterministicRandom) -> [HuntCase.Step] {
        let armed = random.chance(0.3) ? .zero : armedTime(within: duration, &random)
        var moment = HuntCase.Moment(event: "sent", subject: RaftMessage.Kind.requestVoteReply.rawValue, node: nil, occurrence: random.uniform(1...3),
                                     delay: .microseconds(Int64(random.uniform(0...50))))
        let crash = HuntCase.Step(at: armed, action: "crash", value: .string("event-node"), when: moment)
        moment.delay = moment.delay + .microseconds(Int64(random.uniform(10...500)))
        return [crash, HuntCase.Step(at: armed, action: "restart", value: .string("crashed"), when: moment)]
    }

    /// Figure 8's leaders (§5.4.2): the leader is cut off at a drawn time (taking writes it can
    /// only log); the next leader is cut off as it takes the role, which lets the first back in
    /// (an isolation replaces the one before); the leader after that — often the first, whose
    /// log is the longest — is cut off 1–30 ms into its term, while it copies its old entries
    /// to the others and before its own term's entry follows them; the second, whose last
    /// entry has the latest term, may then win them back. Healed 50–500 ms into the next term.
    static func leaderChurn(duration: TimeSpan, _ random: inout DeterministicRandom) -> [HuntCase.Step] {
        let armed = TimeSpan.milliseconds(Int64(random.uniform(300...max(300, Int(duration.microseconds / 1_000) - 1_500))))
        let isolate = { (node: String) in JSONValue.object([("isolate", .string(node))]) }
        return [
            HuntCase.Step(at: armed, action: "partition", value: isolate("leader")),
            HuntCase.Step(at: armed, action: "partition", value: isolate("event-node"), when: tookLeadership(occurrence: 1, after: .microseconds(Int64(random.uniform(0...500))))),
            HuntCase.Step(at: armed, action: "partition", value: isolate("event-node"), when: tookLeadership(occurrence: 2, after: .milliseconds(Int64(random.uniform(1...30))))),
            HuntCase.Step(at: armed, action: "heal", value: .bool(true), when: tookLeadership(occurrence: 3, after: .milliseconds(Int64(random.uniform(50...500))))),
        ]
    }

    /// A node (`node`, any when nil) taking the leader's role for the `occurrence`-th time after a
    /// step's `after`, and how long after that the step acts.
    static func tookLeadership(at node: String? = nil, occurrence: Int, after delay: TimeSpan) -> HuntCase.Moment {
        HuntCase.Moment(event: "role", subject: "leader", node: node, occurrence: occurrence, delay: delay)
    }

    /// A time within the run from which a moment's events count, at least 500 ms before its end.
    static func armedTime(within duration: TimeSpan, _ random: inout DeterministicRandom) -> TimeSpan {
        .milliseconds(Int64(random.uniform(0...Int(duration.microseconds / 1_000) - 500)))
    }

    /// The event, at which node, which occurrence and how soon after it; and the node the fault
    /// strikes (the same node, or the leader that took the role).
    static func moment(_ kind: BackendKind, nodes: Int, _ random: inout DeterministicRandom) -> (HuntCase.Moment, target: String) {
        let named = "n\(random.uniform(1...nodes))"
        let role = kind.atomicCommit ? "coordinator" : "leader"
        let occurrence = random.chance(0.6) ? 1 : random.uniform(2...5)
        let delay = random.chance(0.2) ? .zero : self.delay(&random)
        if !kind.atomicCommit, random.chance(0.2) {
            let node: String? = random.chance(0.5) ? named : nil
            return (tookLeadership(at: node, occurrence: occurrence, after: delay), node ?? "leader")
        }
        let messages = vocabulary(kind)
        let message = messages[random.index(below: messages.count)]
        let node = random.chance(0.5) ? named : role
        return (HuntCase.Moment(event: random.chance(0.75) ? "sent" : "received", subject: message, node: node, occurrence: occurrence, delay: delay), node)
    }

    /// The message types whose moments matter: those that change a protocol's phase or carry a
    /// promise (a vote, a decision, an accepted history), not heartbeats, pings or client
    /// forwarding, so that a drawn moment hits one more often; every type for another backend.
    static func vocabulary(_ kind: BackendKind) -> [String] {
        switch kind.name {
        case "raft": [RaftMessage.Kind.requestVote, .requestVoteReply, .appendEntries, .appendEntriesReply].map(\.rawValue)
        case "zab": [ZabMessage.Kind.leaderInfo, .ackEpoch, .newLeader, .upToDate, .proposal, .commit].map(\.rawValue)
        case "2pc": [TwoPhaseCommit.Message.Kind.prepare, .yes, .commit, .abort].map(\.rawValue)
        case "3pc": [ThreePhaseCommit.Message.Kind.canCommit, .yes, .preCommit, .preCommitAck, .doCommit, .abort].map(\.rawValue)
        case "primary-backup": [PrimaryBackup.Message.Kind.replicate, .psync, .fullResync, .vote, .promote].map(\.rawValue)
        default: kind.messageKinds
        }
    }

    /// Microseconds (inside a disk sync or a message's flight) or milliseconds (a few rounds).
    static func delay(_ random: inout DeterministicRandom) -> TimeSpan {
        random.chance(0.55) ? .microseconds(Int64(random.uniform(1...200))) : .milliseconds(Int64(random.uniform(1...200)))
    }

    /// How long a fault lasts: as short as a delay (a crash and a restart inside one election), or
    /// seconds (long enough for the others to elect a leader and take writes).
    static func lasting(_ random: inout DeterministicRandom) -> TimeSpan {
        random.chance(0.6) ? delay(&random) : .milliseconds(Int64(random.uniform(200...3_000)))
    }
}
