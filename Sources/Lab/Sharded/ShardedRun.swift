import ConsensusCore
import Raft
import Sharding
import Simulator

/// One run of a sharded scenario: the deployment built from the layout, the scenario's clients
/// on it, the configuration changes at their times, and the whole turned into one
/// `SimulationResult` — every group's client operations in one history, nodes numbered across the
/// deployment (`ShardedDeployment.globalNode`), each group's replicas compared among themselves —
/// so that the checker and the report writer serve it as they serve one cluster.
public enum ShardedRun {
    static func execute(_ scenario: Scenario, _ layout: ShardedLayout, options: RaftOptions, seed: UInt64) -> (SimulationResult, ShardedOutcome) {
        let groupIDs = layout.groupIDs
        let deployment = ShardedDeployment(groups: groupIDs, buckets: layout.buckets, options: options, bug: layout.bug) { scope in
            // Every operation is a client of its group's simulation: ranges 2^36 apart never meet.
            config(scope, scenario, layout, seed: seed, firstClientID: (1 << 36) * ((groupIDs.firstIndex { .group($0) == scope } ?? groupIDs.count) + 1))
        }
        deployment.schedule(layout.initialChange, at: .zero)
        for scheduled in layout.changes { deployment.schedule(scheduled.change, at: scheduled.at) }
        var clients = ShardClients(count: layout.clients(scenario.workload), workload: scenario.workload,
                                   seed: seed, known: .initial(buckets: layout.buckets), transactions: layout.transactions)
        let end = deployment.metaserver.config.end
        deployment.run(until: .zero + scenario.duration) { clients.step(deployment) }
        clients.issuing = false
        deployment.run(until: end) { clients.step(deployment) }
        return assemble(deployment, clients: clients)
    }

    /// The simulation of one group (or of the metaserver): the scenario's network, storage and
    /// timing, its own seed and faults, and no clients of its own (the sharded clients use it).
    public static func config(_ scope: GroupScope, _ scenario: Scenario, _ layout: ShardedLayout, seed: UInt64, firstClientID: Int) -> SimulationConfig {
        var workload = scenario.workload
        workload.clientsPerNode = 0
        var config = SimulationConfig(
            nodes: scope == .metaserver ? layout.metaserverNodes : layout.nodesPerGroup, seed: DeterministicRandom.derive(seed, "\(scope)"),
            duration: scenario.duration, quiescence: scenario.quiescence, healAtEnd: true, network: scenario.network, clientLink: scenario.clientLink,
            storage: scenario.storage, processingTime: scenario.processing, workload: workload,
            faults: layout.faults(for: scope, everywhere: scenario.faults, nemesis: scenario.nemesis, seed: seed, duration: scenario.duration),
            startTimes: scope == .metaserver ? [:] : scenario.startTimes)
        config.firstClientID = firstClientID
        return config
    }

    static func assemble(_ deployment: ShardedDeployment, clients: ShardClients) -> (SimulationResult, ShardedOutcome) {
        var scopes: [ShardedParts.Scope] = deployment.groupIDs.map { ShardedParts.Scope(.group($0), deployment.groups[$0]!.result, nodes: deployment.groups[$0]!.cluster.count) }
        scopes.append(ShardedParts.Scope(.metaserver, deployment.metaserver.result, nodes: deployment.metaserver.cluster.count))
        var parts = ShardedParts(scopes: scopes, history: deployment.history(issuers: clients.issuers, globalNodes: true), served: deployment.servedState(),
                                 changes: deployment.changesMade, migrations: deployment.migrations, latest: deployment.latest)
        parts.transactions = clients.ledger
        parts.decisions = decisions(deployment)
        return assemble(parts)
    }

    /// One `SimulationResult` and the sharded tables from what either driver recorded of a
    /// sharded run.
    public static func assemble(_ parts: ShardedParts) -> (SimulationResult, ShardedOutcome) {
        let scopes = parts.scopes
        let global = { (scope: GroupScope, node: NodeID) in parts.globalNode(scope, node) }
        var counters = SimulationCounters()
        var finalStates: [NodeID: [String: String]] = [:]
        var leadership: [NodeID: Leadership] = [:]
        var replicaGroups: [[NodeID]] = []
        for entry in scopes {
            let (scope, result) = (entry.scope, entry.result)
            counters.add(result.counters)
            for (node, state) in result.finalStates { finalStates[global(scope, node)] = state }
            for (node, view) in result.finalLeadership { leadership[global(scope, node)] = Leadership(role: view.role, term: view.term, leader: view.leader.map { global(scope, $0) }) }
            replicaGroups.append(result.finalStates.keys.sorted().map { global(scope, $0) })
        }
        let first = scopes[0].result
        let (history, transactionIDs) = merged(parts.history, parts.transactions.writes + parts.transactions.unfinished)
        var result = SimulationResult(history: history,
                                      events: events(parts) + servedTwice(parts.served.servedTwice, at: first.end),
                                      counters: counters, finalStates: finalStates,
                                      finalLeadership: leadership, transactions: [:], leaders: [], faultLevels: faultLevels(scopes, global: global),
                                      workloadEnd: first.workloadEnd, end: first.end)
        result.replicaGroups = replicaGroups
        result.servedState = parts.served.state
        result.namedTransactions = parts.decisions
        // The writes the checker's words name: only where the replicas disagree (looked up one by one).
        let split = Set(result.namedTransactions.filter { Set($0.value.values).count > 1 }.keys)
        result.namedTransactionWrites = parts.transactions.operations.filter { split.contains($0.key) }.compactMapValues { $0.first.map { transactionIDs[$0] } }
        let groups = scopes.compactMap { entry -> GroupRow? in
            guard case .group(let id) = entry.scope else { return nil }
            return GroupRow(group: id, nodes: (0..<entry.nodes).map { global(entry.scope, NodeID($0 + 1)) },
                            leaderChanges: entry.result.counters.leaderChanges, bucketsAtEnd: parts.latest.bucketsByGroup[id]?.count ?? 0)
        }
        let outcome = ShardedOutcome(groups: groups, migrations: parts.migrations, changes: parts.changes, transactions: parts.transactions.finished)
        return (result, outcome)
    }

    /// A bucket that more than one group serves at the end: two groups accepting writes for one key.
    static func servedTwice(_ buckets: [Bucket: [GroupID]], at end: Instant) -> [EventRecord] {
        buckets.keys.sorted().map { bucket in
            let groups = buckets[bucket]!.map(\.description).joined(separator: " and ")
            return EventRecord(time: end, node: nil, event: .violation(SafetyViolation(.bucketServedTwice, "\(bucket) served by \(groups) at the end of the run")))
        }
    }

    /// The groups' history with the transactions' writes added, in invocation order, renumbered;
    /// and the new id of each added write.
    static func merged(_ history: [HistoryOperation], _ writes: [HistoryOperation]) -> ([HistoryOperation], [Int]) {
        let all = history + writes
        let order = all.indices.sorted { (all[$0].invoke, $0) < (all[$1].invoke, $1) }
        var merged: [HistoryOperation] = []
        var ids = Array(repeating: 0, count: writes.count)
        for index in order {
            var operation = all[index]
            operation.id = merged.count + 1
            if index >= history.count { ids[index - history.count] = operation.id }
            merged.append(operation)
        }
        return (merged, ids)
    }

    /// Every cross-shard transaction as each live replica of each group decided it (nodes
    /// numbered across the deployment): the input of the checker's atomicity check.
    static func decisions(_ deployment: ShardedDeployment) -> [String: [NodeID: Bool]] {
        var decisions: [String: [NodeID: Bool]] = [:]
        for id in deployment.groupIDs {
            for (node, store) in deployment.stores(id) {
                for (transaction, committed) in store.decisions { decisions[transaction, default: [:]][deployment.globalNode(node, of: .group(id))] = committed }
            }
        }
        return decisions
    }

    /// Every group's events (and the metaserver's) with nodes numbered across the deployment, the
    /// final heal once, and the configuration changes and bucket moves as the operator and the
    /// controller saw them.
    static func events(_ parts: ShardedParts) -> [EventRecord] {
        var records: [EventRecord] = []
        var healed = false
        for entry in parts.scopes {
            let scope = entry.scope
            for var record in entry.result.events {
                if case .healedForQuiescence = record.event {
                    if healed { continue }
                    healed = true
                }
                record.node = record.node.map { parts.globalNode(scope, $0) }
                record.group = record.event == .healedForQuiescence ? nil : scope.description
                record.event = record.event.renumbered { parts.globalNode(scope, $0) }
                records.append(record)
            }
        }
        for made in parts.changes {
            records.append(EventRecord(time: made.made, node: nil, event: .note(kind: "configuration", detail: made.description)))
        }
        for move in parts.migrations {
            records.append(EventRecord(time: move.installed, node: nil, event: .note(kind: "migration", detail: move.description)))
        }
        // Stable: events of one time keep the order of their group, groups in id order.
        return records.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
    }

    /// One timeline of fault levels for the deployment: at each change in any group, the sum of
    /// the groups' active faults, what each is (named by its group), and every node cut off from
    /// its own group's majority.
    static func faultLevels(_ scopes: [ShardedParts.Scope], global: (GroupScope, NodeID) -> NodeID) -> [FaultLevel] {
        let times = Set(scopes.flatMap { $0.result.faultLevels.map(\.start) }).sorted()
        return times.map { time in
            var level = FaultLevel(start: time, active: 0, description: "", minoritySide: [])
            var words: [String] = []
            for entry in scopes {
                let (scope, result) = (entry.scope, entry.result)
                guard let current = result.faultLevels.last(where: { $0.start <= time }), current.active > 0 else { continue }
                level.active += current.active
                words.append("\(scope): \(current.description)")
                level.minoritySide += current.minoritySide.map { global(scope, $0) }
            }
            level.description = words.isEmpty ? "none" : words.joined(separator: "; ")
            return level
        }
    }
}

extension ShardedDeployment.MadeChange: CustomStringConvertible {
    /// `v2: join g4, made 12 ms after it was asked for`.
    public var description: String {
        "v\(version.number): \(change.summary), made \((made - requested).microseconds / 1_000) ms after it was asked for"
    }
}

/// A backend's options when it is Raft (the groups of a sharded deployment run Raft), else nil.
struct RaftOptionsOf: BackendVisitor {
    typealias Output = RaftOptions?

    func visit<Backend: ReplicationBackend>(_ backend: Backend.Type, options: Backend.Options) -> RaftOptions? { options as? RaftOptions }
}
