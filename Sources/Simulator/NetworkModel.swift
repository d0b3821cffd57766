import ConsensusCore

/// Who can reach whom and how messages travel, between nodes and between clients and nodes.
///
/// Reachability is a matrix over nodes, so asymmetric (one-way) cuts are possible. A client is
/// pinned to one node and shares its fate, as in Jepsen: it always reaches its own node, and reaches
/// another node exactly when its node does. Links are FIFO unless a message is picked for reordering.
package struct NetworkModel: Sendable {
    let nodeCount: Int
    /// `reachable[from * nodeCount + to]`.
    private var reachable: [Bool]
    /// Index into `profiles` per directed node link.
    private var profileIndex: [Int]
    private var profiles: [LinkProfile]
    /// The profile the run started with, restored by `restoreProfiles()`.
    let baseProfile: LinkProfile
    var clientProfile: LinkProfile
    /// Latest delivery time per directed node link, for FIFO order.
    private var lastNodeDelivery: [Int64]
    /// Latest delivery time per client, to (`[0..<n]`) and from (`[n..<2n]`) each node.
    private var lastClientDelivery: [[Int64]] = []

    package init(nodeCount: Int, profile: LinkProfile, clientProfile: LinkProfile = .local) {
        self.nodeCount = nodeCount
        reachable = Array(repeating: true, count: nodeCount * nodeCount)
        profileIndex = Array(repeating: 0, count: nodeCount * nodeCount)
        profiles = [profile]
        baseProfile = profile
        self.clientProfile = clientProfile
        lastNodeDelivery = Array(repeating: 0, count: nodeCount * nodeCount)
    }

    // MARK: Reachability

    package func canReach(_ from: Int, _ to: Int) -> Bool { from == to || reachable[from * nodeCount + to] }

    package mutating func setReachable(_ from: Int, _ to: Int, _ value: Bool) {
        guard from != to else { return }
        reachable[from * nodeCount + to] = value
    }

    /// Nodes can talk only within their group. Nodes in no group are isolated.
    package mutating func partition(_ groups: [[Int]]) {
        var groupOf = Array(repeating: -1, count: nodeCount)
        for (g, group) in groups.enumerated() { for node in group { groupOf[node] = g } }
        for from in 0..<nodeCount {
            for to in 0..<nodeCount where from != to {
                reachable[from * nodeCount + to] = groupOf[from] >= 0 && groupOf[from] == groupOf[to]
            }
        }
    }

    /// Installs an arbitrary reachability relation (`sees(from, to)`), e.g. a bridge or a ring.
    mutating func setReachability(_ sees: (Int, Int) -> Bool) {
        for from in 0..<nodeCount { for to in 0..<nodeCount where from != to { reachable[from * nodeCount + to] = sees(from, to) } }
    }

    /// Restores every link.
    package mutating func heal() { reachable = Array(repeating: true, count: nodeCount * nodeCount) }

    package var isFullyConnected: Bool { !reachable.contains(false) }

    /// Who can reach whom now (node `i` is `n(i+1)`).
    package var reachability: Reachability {
        Reachability(reaches: (0..<nodeCount).map { from in (0..<nodeCount).filter { canReach(from, $0) }.map { NodeID($0 + 1) } })
    }

    // MARK: Link behaviour

    package func profile(_ from: Int, _ to: Int) -> LinkProfile { profiles[profileIndex[from * nodeCount + to]] }

    /// Changes the behaviour of the given directed links (all node links when `links` is nil).
    mutating func setProfile(_ profile: LinkProfile, links: [(from: Int, to: Int)]? = nil) {
        let index: Int
        if let existing = profiles.firstIndex(of: profile) { index = existing } else { profiles.append(profile); index = profiles.count - 1 }
        if let links {
            for link in links { profileIndex[link.from * nodeCount + link.to] = index }
        } else {
            for i in profileIndex.indices { profileIndex[i] = index }
        }
    }

    package mutating func restoreProfiles() {
        profiles = [baseProfile]
        profileIndex = Array(repeating: 0, count: nodeCount * nodeCount)
    }

    var hasChangedProfiles: Bool { profileIndex.contains { profiles[$0] != baseProfile } }

    // MARK: Transmission

    /// When a message sent now from node `from` to node `to` arrives: nil when lost or cut, and a
    /// second time when duplicated.
    package mutating func transmitBetweenNodes(from: Int, to: Int, at now: Instant, random: inout DeterministicRandom) -> Deliveries {
        guard canReach(from, to) else { return Deliveries() }
        let slot = from * nodeCount + to
        return Self.transmit(profile: profile(from, to), at: now, lastDelivery: &lastNodeDelivery[slot], random: &random)
    }

    /// Transmission between a client pinned to `home` and node `node`, in either direction.
    package mutating func transmitClient(_ client: Int, home: Int, node: Int, toNode: Bool, at now: Instant, random: inout DeterministicRandom) -> Deliveries {
        while lastClientDelivery.count <= client { lastClientDelivery.append(Array(repeating: 0, count: 2 * nodeCount)) }
        let profile: LinkProfile
        if node == home {
            profile = clientProfile
        } else {
            guard toNode ? canReach(home, node) : canReach(node, home) else { return Deliveries() }
            profile = toNode ? self.profile(home, node) : self.profile(node, home)
        }
        return Self.transmit(profile: profile, at: now, lastDelivery: &lastClientDelivery[client][toNode ? node : nodeCount + node], random: &random)
    }

    /// Whether a message already in flight survives to its delivery time: a partition that starts
    /// while a message travels drops it, as a firewall rule would.
    func clientLinkUp(home: Int, node: Int, toNode: Bool) -> Bool {
        node == home || (toNode ? canReach(home, node) : canReach(node, home))
    }

    /// When a message sent now over a link of `profile` arrives (none: lost; twice: duplicated),
    /// FIFO after `lastDelivery` unless picked for reordering. Real nodes delay, drop and
    /// duplicate their frames by the same rule (`conlab run --real`).
    package static func transmit(profile: LinkProfile, at now: Instant, lastDelivery: inout Int64, random: inout DeterministicRandom) -> Deliveries {
        var result = Deliveries()
        if random.chance(profile.loss) { return result }
        result.first = deliveryTime(profile: profile, at: now, lastDelivery: &lastDelivery, random: &random)
        if random.chance(profile.duplicate) {
            result.second = deliveryTime(profile: profile, at: now, lastDelivery: &lastDelivery, random: &random)
        }
        return result
    }

    private static func deliveryTime(profile: LinkProfile, at now: Instant, lastDelivery: inout Int64, random: inout DeterministicRandom) -> Instant {
        var time = (now + profile.latency.sample(&random)).microseconds
        if random.chance(profile.reorder) {
            time += profile.reorderDelay.sample(&random).microseconds
        } else {
            time = max(time, lastDelivery)
            lastDelivery = time
        }
        return Instant(microseconds: time)
    }
}

/// Up to two delivery times of one transmitted message (a duplicate arrives twice).
package struct Deliveries: Sendable, Equatable {
    package var first: Instant?
    package var second: Instant?

    init(first: Instant? = nil, second: Instant? = nil) {
        self.first = first
        self.second = second
    }
}
