import ConsensusCore

/// What a driver knows of its cluster when a fault step fires: which nodes are up or paused, who
/// leads, who coordinates. Node `i` is `n(i+1)`.
package struct ClusterView: Sendable {
    package var up: [Bool]
    package var paused: [Bool]
    /// The leader as clients would find it (`leaderIndex`), nil without one.
    package var leader: Int?
    /// Whether any node has reported a role: protocols without leaders never do.
    package var reportsRoles: Bool
    /// The node that most recently began a transaction (2PC/3PC).
    package var coordinator: Int?
    /// For a step fired by a trigger, the node at which it fired (`NodeRef.eventNode`).
    package var eventNode: Int?

    package init(up: [Bool], paused: [Bool], leader: Int?, reportsRoles: Bool, coordinator: Int?, eventNode: Int? = nil) {
        self.up = up
        self.paused = paused
        self.leader = leader
        self.reportsRoles = reportsRoles
        self.coordinator = coordinator
        self.eventNode = eventNode
    }

    /// Among live nodes that say they lead, the one with the highest term (the first on a tie).
    package static func leaderIndex(up: [Bool], roles: [Role?], terms: [UInt64]) -> Int? {
        var best: Int?
        for node in up.indices where up[node] && roles[node] == .leader {
            if best == nil || terms[node] > terms[best!] { best = node }
        }
        return best
    }
}

/// How a fault step resolves, shared by every driver: the simulator and the real-process driver
/// (`Jepsen`) resolve role targets, draw random targets and partition shapes from one generator
/// (the run seed's `faults` stream) and change the links the same way, so that a step hits the
/// same nodes on both for the same cluster state. Each driver then carries out what is left —
/// crashing a node, pausing it, slowing it — in its own way.
package struct FaultResolver: Sendable {
    private var random: DeterministicRandom

    package init(seed: UInt64) {
        random = DeterministicRandom(seed: seed, label: "faults")
    }

    /// The nodes `action` hits (empty for link-wide actions), after applying its effect on the
    /// links to `network` and `droppedKinds` (per directed link `from * n + to`); nil when a role
    /// target has no holder yet, and then nothing changed.
    package mutating func apply(_ action: FaultAction, in view: ClusterView, network: inout NetworkModel,
                                droppedKinds: inout [Int: Set<String>]) -> [Int]? {
        let n = view.up.count
        switch action {
        case .partition(let groups):
            var resolved: [[Int]] = []
            for group in groups {
                guard let nodes = resolveAll(group, in: view) else { return nil }
                resolved.append(nodes)
            }
            network.partition(resolved)
            return []
        case .partitionShape(let shape):
            return applyShape(shape, in: view, network: &network) ? [] : nil
        case .oneWay(let from, let to):
            guard let senders = resolveAll(from, in: view), let receivers = resolveAll(to, in: view) else { return nil }
            for sender in senders { for receiver in receivers { network.setReachable(sender, receiver, false) } }
            return []
        case .drop(let kinds, let from, let to):
            guard let senders = resolveAll(from, in: view), let receivers = resolveAll(to, in: view) else { return nil }
            for sender in senders { for receiver in receivers where sender != receiver { droppedKinds[sender * n + receiver, default: []].formUnion(kinds) } }
            return []
        case .heal:
            network.heal()
            droppedKinds.removeAll()
            return []
        case .network(let change):
            let touched: [Int]? = change.nodes.flatMap { resolveAll($0, in: view) }
            for from in 0..<n {
                for to in 0..<n where from != to {
                    if let touched, !touched.contains(from), !touched.contains(to) { continue }
                    network.setProfile(change.applied(to: network.profile(from, to)), links: [(from, to)])
                }
            }
            return []
        case .restoreNetwork:
            network.restoreProfiles()
            return []
        case .crash(let ref), .slow(let ref, _), .clockRate(let ref, _), .inject(let ref, _), .disk(let ref, _):
            return resolve(ref, in: view)
        case .restart(let ref):
            return ref == .affected ? view.up.indices.filter { !view.up[$0] } : resolve(ref, in: view) ?? []
        case .pause(let ref):
            return resolve(ref, in: view)?.filter { view.up[$0] }
        case .resume(let ref):
            return ref == .affected ? view.paused.indices.filter { view.paused[$0] } : resolve(ref, in: view) ?? []
        }
    }

    package mutating func resolveAll(_ refs: [NodeRef], in view: ClusterView) -> [Int]? {
        var result: [Int] = []
        for ref in refs {
            guard let nodes = resolve(ref, in: view) else { return nil }
            for node in nodes where !result.contains(node) { result.append(node) }
        }
        return result
    }

    /// The nodes a reference means now; nil when a role has no holder.
    package mutating func resolve(_ ref: NodeRef, in view: ClusterView) -> [Int]? {
        switch ref {
        case .id(let node): return [node.index]
        case .leader:
            // A protocol that never reports roles (2PC, the unreplicated baseline) has no leader to
            // wait for: `leader` then means its lowest-numbered live node.
            guard view.reportsRoles else { return view.up.indices.first { view.up[$0] }.map { [$0] } }
            return view.leader.map { [$0] }
        case .follower:
            let leader = resolve(.leader, in: view)?.first
            return view.up.indices.first { view.up[$0] && $0 != leader }.map { [$0] }
        case .coordinator:
            if let coordinator = view.coordinator { return [coordinator] }
            return view.reportsRoles ? nil : resolve(.leader, in: view)
        case .random:
            let live = view.up.indices.filter { view.up[$0] }
            return live.isEmpty ? nil : [live[random.index(below: live.count)]]
        case .affected:
            return view.up.indices.filter { !view.up[$0] || view.paused[$0] }
        case .eventNode:
            return view.eventNode.map { [$0] }
        }
    }

    private mutating func applyShape(_ shape: PartitionShape, in view: ClusterView, network: inout NetworkModel) -> Bool {
        let n = view.up.count
        switch shape {
        case .isolate(let ref):
            guard let target = resolve(ref, in: view)?.first else { return false }
            network.partition([[target], (0..<n).filter { $0 != target }])
        case .majorityMinority(let side):
            let minoritySize = (n - 1) / 2
            // Wait for the leader before drawing: a step that retries must not use up draws, or
            // every random step after it would differ between backends (FAULTS.md: identical faults).
            let leader = side == nil ? nil : resolve(.leader, in: view)?.first
            if side != nil, leader == nil { return false }
            var order = shuffled(Array(0..<n))
            if let side, let leader {
                order.removeAll { $0 == leader }
                if side == .minority { order.insert(leader, at: 0) } else { order.append(leader) }
            }
            network.partition([Array(order[..<minoritySize]), Array(order[minoritySize...])])
        case .halves:
            let order = shuffled(Array(0..<n))
            network.partition([Array(order[..<(n / 2)]), Array(order[(n / 2)...])])
        case .bridge:
            // The bridge is a follower: a leader that sees everyone would hide the effect the
            // shape exists to show (the half that cannot hear the leader keeps electing).
            var order = shuffled(Array(0..<n))
            if let leader = view.leader, n > 2 { order.removeAll { $0 == leader }; order.append(leader) }
            let bridge = order[0], rest = Array(order.dropFirst())
            let left = Set(rest.enumerated().filter { $0.offset % 2 == 0 }.map(\.element))
            network.setReachability { from, to in
                from == bridge || to == bridge || left.contains(from) == left.contains(to)
            }
        case .majoritiesRing:
            let ring = shuffled(Array(0..<n))
            var position = Array(repeating: 0, count: n)
            for (i, node) in ring.enumerated() { position[node] = i }
            // Seeing every node within `reach` ring steps gives 2·reach + 1 ≥ ⌊n/2⌋ + 1 nodes: a majority.
            let reach = (n / 2 + 1) / 2
            network.setReachability { from, to in
                let distance = abs(position[from] - position[to])
                return min(distance, n - distance) <= reach
            }
        }
        return true
    }

    private mutating func shuffled(_ values: [Int]) -> [Int] {
        var result = values
        random.shuffle(&result)
        return result
    }
}

/// What faults one node is under, for counting active fault conditions.
package struct NodeFaultState: Sendable {
    /// Crashed after it had started (a node not yet started by a staggered start is not a fault).
    package var crashed: Bool
    package var paused: Bool
    package var slowed: Bool
    package var clockChanged: Bool

    package init(crashed: Bool, paused: Bool, slowed: Bool, clockChanged: Bool) {
        self.crashed = crashed
        self.paused = paused
        self.slowed = slowed
        self.clockChanged = clockChanged
    }
}

extension FaultLevel {
    /// The fault level from `start` on: one condition for any cut or dropped kind, one for changed
    /// link behaviour, one per node fault; and the live nodes that cannot exchange messages with a
    /// majority. Nil when it equals `last` (nothing to record).
    package static func next(after last: FaultLevel, at start: Instant, description: String, network: NetworkModel,
                             droppedKinds: [Int: Set<String>], up: [Bool], nodes: [NodeFaultState]) -> FaultLevel? {
        var active = network.isFullyConnected && droppedKinds.isEmpty ? 0 : 1
        if network.hasChangedProfiles { active += 1 }
        for node in nodes {
            for condition in [node.crashed, node.paused, node.slowed, node.clockChanged] where condition { active += 1 }
        }
        let majority = up.count / 2 + 1
        let minority = up.indices.filter { node in
            up[node] && up.indices.filter { network.canReach(node, $0) && network.canReach($0, node) }.count < majority
        }.map { NodeID($0 + 1) }
        guard last.active != active || last.minoritySide != minority else { return nil }
        return FaultLevel(start: start, active: active, description: description, minoritySide: minority)
    }

    /// A run's level at time zero: no fault.
    package static let none = FaultLevel(start: .zero, active: 0, description: "none", minoritySide: [])
}

extension LeaderSpan {
    /// Notes the leader from `start` on in `spans`: nil when it did not change, otherwise whether
    /// the change counts in `leader_changes` (a leader elected after the first).
    package static func note(_ leader: NodeID?, term: UInt64, at start: Instant, in spans: inout [LeaderSpan]) -> Bool? {
        let span = LeaderSpan(start: start, leader: leader, term: term)
        let last = spans[spans.count - 1]
        guard span.leader != last.leader || span.term != last.term else { return nil }
        let counts = span.leader != nil && spans.contains { $0.leader != nil }
        if last.start == start { spans[spans.count - 1] = span } else { spans.append(span) }
        return counts
    }

    /// A run's leader at time zero: none yet.
    package static let none = LeaderSpan(start: .zero, leader: nil, term: 0)
}
