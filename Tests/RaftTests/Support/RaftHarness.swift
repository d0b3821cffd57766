import ConsensusCore
import Foundation
import Raft
import Simulator
import Testing

/// A simulated Raft cluster without background load, driven the way the MIT 6.824 tester drives
/// its servers: disconnect and reconnect nodes, crash and restart them, submit commands and wait
/// for agreement — in virtual time, with the safety invariants checked after every step.
final class RaftHarness {
    let sim: Simulation<Raft>
    let invariants = RaftInvariants()
    private(set) var connected: Set<NodeID>
    private var nextSubmitter = 0
    /// Keys are unique per test command so replies can be matched to log entries.
    let key = "k"

    init(nodes: Int, seed: UInt64, options: RaftOptions = RaftOptions(), network: LinkProfile = LinkProfile(),
         configure: (inout SimulationConfig) -> Void = { _ in }) {
        var config = SimulationConfig(nodes: nodes, seed: seed, duration: .seconds(100_000), quiescence: .zero, healAtEnd: false, network: network)
        config.workload.clientsPerNode = 0
        config.workload.timeout = .seconds(2)
        configure(&config)
        sim = Simulation<Raft>(config: config, options: options)
        connected = Set(sim.cluster)
        sim.afterStep = { [invariants] sim, node in invariants.check(sim, node) }
        sim.run(until: .zero)  // start the nodes
    }

    var nodes: [NodeID] { sim.cluster }
    func raft(_ node: NodeID) -> Raft? { sim.backend(node) }

    // MARK: Faults

    /// Cuts `node` off from every other node (6.824's `disconnect`).
    func disconnect(_ node: NodeID) {
        connected.remove(node)
        applyConnectivity()
    }

    func connect(_ node: NodeID) {
        connected.insert(node)
        applyConnectivity()
    }

    private func applyConnectivity() {
        if connected.count == nodes.count { sim.apply(.heal) } else { sim.apply(.partition([connected.sorted().map { .id($0) }])) }
    }

    func crash(_ node: NodeID) { sim.apply(.crash(.id(node))) }
    func restart(_ node: NodeID) { sim.apply(.restart(.id(node))) }

    func run(_ duration: TimeSpan) { sim.run(for: duration) }

    // MARK: Observations

    /// Live, connected nodes that believe they lead, with their terms.
    func leaders() -> [(node: NodeID, term: Term)] {
        nodes.compactMap { node in
            guard connected.contains(node), let raft = raft(node), raft.role == .leader else { return nil }
            return (node, raft.currentTerm)
        }
    }

    /// 6.824's `checkOneLeader`: within 5 s a connected leader emerges, and no term has two.
    @discardableResult
    func checkOneLeader(sourceLocation: SourceLocation = #_sourceLocation) -> NodeID? {
        for _ in 0..<10 {
            run(.milliseconds(500))
            let current = leaders()
            let terms = Dictionary(grouping: current, by: \.term)
            if let crowded = terms.first(where: { $0.value.count > 1 }) {
                Issue.record("term \(crowded.key) has \(crowded.value.count) leaders", sourceLocation: sourceLocation)
            }
            if let latest = current.max(by: { $0.term < $1.term }) { return latest.node }
        }
        Issue.record("expected one leader, got none", sourceLocation: sourceLocation)
        return nil
    }

    func checkNoLeader(sourceLocation: SourceLocation = #_sourceLocation) {
        let current = leaders()
        #expect(current.isEmpty, "expected no leader among connected servers, found \(current.map(\.node))", sourceLocation: sourceLocation)
    }

    /// All connected live servers agree on the term.
    func checkTerms(sourceLocation: SourceLocation = #_sourceLocation) -> Term? {
        let terms = Set(nodes.compactMap { connected.contains($0) ? raft($0)?.currentTerm : nil })
        #expect(terms.count == 1, "servers disagree on the term: \(terms.sorted())", sourceLocation: sourceLocation)
        return terms.first
    }

    /// How many live servers have applied index `index` (6.824's `nCommitted`; the invariants
    /// already guarantee that they applied the same entry).
    func nCommitted(_ index: LogIndex) -> Int {
        nodes.count { raft($0).map { $0.lastApplied >= index } ?? false }
    }

    /// The value of the put decided at `index`, if that entry is one.
    func value(at index: LogIndex) -> String? {
        guard index < invariants.decided.count, case .put(_, let value)? = invariants.decided[index]?.request?.command else { return nil }
        return value
    }

    // MARK: Commands

    /// Submits `put(k, value)` through a connected server (a fresh client that follows redirects)
    /// and waits for the answer. Returns the history position.
    func submit(_ value: String, via node: NodeID? = nil) -> Int {
        let order = nodes.filter { connected.contains($0) && sim.isUp($0) }
        let target = node ?? order[nextSubmitter % max(order.count, 1)]
        nextSubmitter += 1
        return sim.submit(.put(key: key, value: value), via: target)
    }

    /// Runs until operation `operation` completes or its client gives up.
    func waitFor(_ operation: Int) -> Outcome {
        while sim.history[operation].complete == nil, sim.now < sim.history[operation].invoke + sim.config.workload.timeout + .milliseconds(1) {
            run(.milliseconds(5))
        }
        return sim.history[operation].outcome
    }

    /// 6.824's `one`: gets `value` committed and applied by at least `expected` servers within
    /// 10 s of virtual time, submitting again if an attempt does not get through (when `retry`).
    @discardableResult
    func one(_ value: String, expected: Int, retry: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) -> LogIndex? {
        let deadline = sim.now + .seconds(10)
        while sim.now < deadline {
            let operation = submit(value)
            if case .ok = waitFor(operation), let index = invariants.indexOfClient[sim.history[operation].client] {
                let wait = sim.now + .seconds(2)
                while sim.now < wait {
                    if nCommitted(index) >= expected, self.value(at: index) == value { return index }
                    run(.milliseconds(20))
                }
                if !retry { break }
            } else if !retry {
                break
            }
        }
        Issue.record("one(\(value)) failed to reach agreement on \(expected) servers", sourceLocation: sourceLocation)
        return nil
    }

    /// Asserts that no invariant was violated; call at the end of every test.
    func checkInvariants(_ context: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(invariants.steps > 0, "no node step was checked", sourceLocation: sourceLocation)
        #expect(invariants.violations.isEmpty, "\(context)\(invariants.violations.joined(separator: "\n"))", sourceLocation: sourceLocation)
    }
}

/// Environment-dependent counts: modest by default, the published ones with `CONLAB_FULL=1`.
enum Scale {
    static var full: Bool { ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1" }
    static func count(_ modest: Int, full published: Int) -> Int { full ? published : modest }
    /// `CONLAB_SEED=N` replays one seed of a randomized test.
    static var seed: UInt64? { ProcessInfo.processInfo.environment["CONLAB_SEED"].flatMap(UInt64.init) }
}
