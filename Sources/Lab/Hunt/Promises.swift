import ConsensusCore
import Simulator

/// What a protocol guarantees under crash-stop faults, partitions and an unreliable network, and
/// the judging of one run against it. One definition for the conformance suite (which asserts a
/// backend's promises over fixed scenario files) and `conlab hunt` (which searches drawn
/// scenarios for a run that breaks one).
public struct Promises: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Every history is linearizable.
    public static let linearizable = Promises(rawValue: 1 << 0)
    /// No acknowledged write is lost, even when a majority crashes and loses unsynced data.
    public static let durable = Promises(rawValue: 1 << 1)
    /// Replicas agree after faults heal and the cluster quiesces.
    public static let convergent = Promises(rawValue: 1 << 2)
    /// A transaction never commits at some replicas and aborts at others.
    public static let atomic = Promises(rawValue: 1 << 3)
    /// Once every fault is undone, within the quiescence every live node follows one leader of
    /// the latest term or epoch (and the replicas agree: `convergent`). A node stuck in an
    /// election beside a working cluster breaks it.
    public static let liveAfterHeal = Promises(rawValue: 1 << 4)
    /// The backend never reports a violation of its own safety invariants (a `SafetyViolation`
    /// event: two leaders of one term, a committed entry overwritten, a transaction decided
    /// both ways, a ZAB synchronisation that does not fit).
    public static let invariantsHold = Promises(rawValue: 1 << 5)

    public static let all: Promises = [.linearizable, .durable, .convergent, .atomic, .invariantsHold]

    /// Each single promise with the name `--promise` and the hunt's files use, in judging order.
    public static let named: [(name: String, promise: Promises)] = [
        ("linearizable", .linearizable), ("durable", .durable), ("convergent", .convergent), ("atomic", .atomic),
        ("liveAfterHeal", .liveAfterHeal), ("invariantsHold", .invariantsHold),
    ]

    /// `linearizable`, or nil for a name no promise has.
    public init?(name: String) {
        guard let found = Self.named.first(where: { $0.name == name }) else { return nil }
        self = found.promise
    }

    /// The names of the promises in this set, in judging order.
    public var names: [String] { Self.named.filter { contains($0.promise) }.map(\.name) }
}

/// One promise a run broke, with what the checker or the backend saw.
public struct BrokenPromise: Sendable, Hashable, CustomStringConvertible {
    /// A single promise (one member of `Promises.named`): the kind of the violation.
    public var promise: Promises
    public var message: String
    /// The checker could not decide within its budget (`linearizable` judged `unknown`): not a
    /// pass, and not a violation found either. The conformance suite fails on it (its scenarios
    /// are meant to be decidable); a hunt counts it apart.
    public var undecided = false

    public var kind: String { promise.names.first ?? "?" }
    public var description: String { "\(kind): \(message)" }
}

extension Promises {
    /// What a backend still promises after its disks did `damage`. A node whose recovery refuses
    /// its log is a crash-stop failure, which the protocols tolerate while the replicas still
    /// running at the end (`liveReplicas`: every other node restarts for the quiescence) outnumber
    /// the refused ones; otherwise acknowledged writes may sit on disks nobody reads, and no leader
    /// can be elected (for the unreplicated server, its one disk is all there is). A node that
    /// started on silently damaged data (a lost or flipped last record) breaks the assumption
    /// every protocol here makes of its disk, and with it safety: one such follower can forget an
    /// entry it acknowledged and help elect a leader without it (Alagappan et al.,
    /// "Protocol-Aware Recovery for Consensus-Based Storage", FAST 2018), so its run is judged on
    /// the promises that do not rest on durability alone.
    ///
    /// Atomic commit (`writeAll`: 2PC, 3PC) tolerates no permanent failure at all: a write is
    /// answered once every replica voted and its coordinator logged the decision, and a
    /// participant in doubt learns the outcome only when that coordinator is back. One refused
    /// node can hold the only record of a decision, so its writes may be lost and replicas differ.
    public func kept(under damage: DiskDamage, liveReplicas: Int, writeAll: Bool = false) -> Promises {
        var kept = self
        if !damage.refused.isEmpty, writeAll || liveReplicas <= damage.refused.count { kept.subtract([.durable, .convergent, .liveAfterHeal]) }
        if !damage.unnoticed.isEmpty { kept.subtract([.durable, .linearizable, .convergent, .invariantsHold]) }
        return kept
    }

    /// The promises of this set that `output` breaks, judged by the lab's checker after the
    /// disk damage the run took has been allowed for (`kept(under:liveReplicas:)`).
    public func broken(by output: RunOutput) -> [BrokenPromise] {
        let judged = kept(under: DiskDamage(output.result), liveReplicas: output.result.finalStates.count, writeAll: output.spec.backend.kind.atomicCommit)
        let c = output.consistency
        var problems: [BrokenPromise] = []
        func add(_ promise: Promises, _ message: String?, undecided: Bool = false) {
            if judged.contains(promise), let message { problems.append(BrokenPromise(promise: promise, message: message, undecided: undecided)) }
        }
        add(.linearizable, c.linearizable == .linearizable ? nil : "history \(c.linearizable == .unknown ? "not decided (unknown)" : "not linearizable")",
            undecided: c.linearizable == .unknown)
        add(.durable, c.lostWrites > 0 ? "\(c.lostWrites) acknowledged writes lost" : nil)
        add(.convergent, c.divergentKeys > 0 ? "\(c.divergentKeys) keys diverge across replicas" : nil)
        add(.atomic, c.atomicityViolations > 0 ? "\(c.atomicityViolations) transactions not atomic" : nil)
        add(.liveAfterHeal, Self.electingAtTheEnd(output.result) ? nil : Self.unsettledLeadership(output.result.finalLeadership))
        add(.invariantsHold, Self.reportedViolations(output.result))
        return problems
    }

    /// The safety violations the backends reported during the run, or nil if none.
    public static func reportedViolations(_ result: SimulationResult) -> String? {
        let violations = result.violations
        guard let first = violations.first else { return nil }
        return "\(violations.count) safety violations reported, the first: \(first)"
    }

    /// Whether the run ended in an election that followed a leader lost less than
    /// `electionGrace` before the end: the network's own loss, which quiescence keeps, can cost
    /// a leader its quorum (three heartbeat messages lost in a row, with one node down for good,
    /// hunt seed 3959 of `raft[read=log]`), and an election that began moments before the end is
    /// not a cluster that failed to settle. A cluster leaderless for longer, or whose nodes
    /// follow different leaders, still breaks the promise.
    static func electingAtTheEnd(_ result: SimulationResult) -> Bool {
        guard let last = result.leaders.last, last.leader == nil,
              result.leaders.contains(where: { $0.leader != nil && $0.start < last.start }) else { return false }
        return result.end - last.start < electionGrace
    }

    /// How long before the end a lost leader still counts as an election under way.
    static let electionGrace = TimeSpan.seconds(1)

    /// Why the live nodes do not all follow one leader of the latest term, or nil if they do.
    public static func unsettledLeadership(_ views: [NodeID: Leadership]) -> String? {
        guard let term = views.values.map(\.term).max() else { return "no live node reports whom it follows" }
        let leaders = views.filter { $0.value.role == .leader && $0.value.leader == $0.key && $0.value.term == term }.keys.sorted()
        guard let leader = leaders.first else { return "after the heal no node leads the latest term \(term): " + describe(views) }
        guard leaders.count == 1 else { return "\(leaders.count) leaders of term \(term) after the heal: " + describe(views) }
        let strays = views.filter { $0.value.leader != leader || $0.value.term != term }
        return strays.isEmpty ? nil : "after the heal not following \(leader) of term \(term): " + describe(strays)
    }

    static func describe(_ views: [NodeID: Leadership]) -> String {
        views.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }
}

/// What a node's disk did to it during a run, as the restarts found it.
public struct DiskDamage: Sendable {
    /// Nodes whose recovery refused a corrupt record: they stay down, a crash-stop failure.
    public var refused: Set<NodeID> = []
    /// Nodes that started although their disk had damaged synced data since the start before.
    public var unnoticed: Set<NodeID> = []
    /// Restarts that repaired a torn tail.
    public var repairs = 0

    public init(_ result: SimulationResult) {
        for record in result.events {
            switch record.event {
            case .restartFailed: if let node = record.node { refused.insert(node) }
            case .diskDamageUnnoticed: if let node = record.node { unnoticed.insert(node) }
            case .tornTailRepaired: repairs += 1
            default: break
            }
        }
    }
}
