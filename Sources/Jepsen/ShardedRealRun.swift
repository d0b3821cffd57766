import ConsensusCore
import Foundation
import Glibc
import Lab
import Runtime
import Server
import Sharding
import Simulator

/// `conlab run --real` of a sharded scenario: every server group and the metaserver a cluster of
/// real `conlab serve` processes (the groups' cluster files name their shard group), each with its
/// own part of the fault timeline carried out by a `RealRun` of its own, on a thread of its own;
/// the scenario's clients routing by the table they read from the metaserver (`ShardRoutes`); the
/// operator making the configuration changes at their times and the controller moving buckets
/// (`ShardDriver`, the simulator's `MetaClerk` and `ShardController` over RESP), each on a thread
/// of its own. Everything shares one time 0, and what was recorded is assembled as the simulator
/// assembles a sharded run (`ShardedRun.assemble`), so one checker and one report serve both.
final class ShardedRealRun {
    let spec: RunSpec
    let layout: ShardedLayout
    /// The run's folder: one folder per cluster in it.
    let directory: String
    private let scopes: [GroupScope]
    private let clusters: [ProcessCluster]
    private let runs: [RealRun]
    private var origin = MonotonicClock.now()

    /// Writes every cluster's folder under `directory`; starts nothing.
    init(spec: RunSpec, layout: ShardedLayout, executable: String, directory: String) throws {
        self.spec = spec
        self.layout = layout
        self.directory = directory
        scopes = layout.groupIDs.map(GroupScope.group) + [.metaserver]
        var clusters: [ProcessCluster] = [], runs: [RealRun] = []
        var written = false
        // Nothing runs yet: a cluster whose folder could not be written leaves none behind.
        defer { if !written { try? FileManager.default.removeItem(atPath: directory) } }
        for scope in scopes {
            let config = ShardedRun.config(scope, spec.scenario, layout, seed: spec.seed, firstClientID: 1)
            var shardGroup: (group: GroupID, buckets: Int)?
            if case .group(let id) = scope { shardGroup = (id, layout.buckets) }
            let cluster = try ProcessCluster(executable: executable, directory: (directory as NSString).appendingPathComponent(scope.description),
                                             backend: spec.backend, nodes: config.nodes, requestTimeout: spec.scenario.workload.timeout,
                                             namespaces: nil, shardGroup: shardGroup)
            clusters.append(cluster)
            runs.append(RealRun(config: config, cluster: cluster))
        }
        self.clusters = clusters
        self.runs = runs
        written = true
    }

    /// Stops exactly the processes every cluster started; removes their folders unless `keepingFiles`.
    func stopAll(keepingFiles keep: Bool) {
        for cluster in clusters { cluster.stopAll(keepingFiles: keep) }
        if !keep { try? FileManager.default.removeItem(atPath: directory) }
    }

    private var now: Instant { .zero + (MonotonicClock.now() - origin) }
    private var workload: WorkloadConfig { spec.scenario.workload }
    /// When the last client gives up and the groups have quiesced: the run's end.
    private var end: Instant { .zero + spec.scenario.duration + workload.timeout + .milliseconds(1) + spec.scenario.quiescence }

    private var metaserver: ProcessCluster { clusters[clusters.count - 1] }
    private var scopeSizes: [(scope: GroupScope, nodes: Int)] { zip(scopes, clusters).map { ($0, $1.nodes) } }

    /// Carries the run out; the clusters are the caller's to stop (`stopAll`).
    func run() throws -> (SimulationResult, ShardedOutcome) {
        for run in runs { try run.startNodes() }
        origin = MonotonicClock.now()
        for run in runs { run.begin(at: origin) }
        let reached = reachedClusters(), lookups = try driver(patience: workload.timeout)
        let loop = try EventLoop()
        let routes = ShardRoutes(groups: reached.dropLast(), metaserver: reached.last!, homes: layout.groups, driver: lookups, loop: loop)
        let clients = LoopClients(loop: loop, routes: routes, config: spec.scenario.simulationConfig(seed: spec.seed), sharded: layout.transactions, origin: origin)
        var changes = Operator(), moves = MigrationLog()
        let failures = Concurrently.run(runs.map { run in { try run.followFaults() } } + [
            { [self] in changes = operate() },
            { [self] in moves = try control() },
        ])
        let (history, ledger) = clients.finishWithTransactions()
        if let failure = failures.first { throw failure }
        return assemble(history: history, transactions: ledger, changes: changes, moves: moves)
    }

    /// A driver of the deployment's clusters that tries one request for `patience`.
    private func driver(patience: TimeSpan) throws -> ShardDriver {
        try ShardDriver(metaserver: metaserver.configuration, groups: clusters.dropLast().map(\.configuration), patience: max(patience.seconds, 0.1))
    }

    /// Every cluster as the clients reach it: the groups in order, then the metaserver.
    private func reachedClusters() -> [ShardRoutes.Cluster] {
        zip(scopes, clusters).map { scope, cluster in
            var id: GroupID?
            if case .group(let group) = scope { id = group }
            return ShardRoutes.Cluster(id: id, members: (0..<cluster.nodes).map(cluster.clientAddress), offset: ShardedParts.offset(of: scope, sizes: scopeSizes))
        }
    }

    // MARK: The operator and the controller

    /// What the operator did: each change made, and each it could not make before the end.
    struct Operator {
        var made: [ShardedDeployment.MadeChange] = []
        var notMade: [(at: Instant, change: ConfigurationChange, reason: String)] = []
    }

    /// Makes the first configuration at time 0 and each scheduled change at its time, one at a
    /// time, in order, each tried until the run ends (a metaserver without a leader keeps it
    /// waiting); one still not made then is recorded as such.
    private func operate() -> Operator {
        var record = Operator()
        let changes = [ShardedLayout.ScheduledChange(at: .zero, change: layout.initialChange)] + layout.changes
        for scheduled in changes {
            sleep(until: scheduled.at)
            let requested = max(now, scheduled.at)
            var failure = "the run ended before it could be asked for (the changes before it took that long)"
            while now < end {
                do {
                    let version = try driver(patience: end - now).change(scheduled.change)
                    record.made.append(ShardedDeployment.MadeChange(requested: requested, made: now, change: scheduled.change, version: version))
                    failure = ""
                    break
                } catch {
                    // Refused or unreadable (a scenario's changes are checked before the run): not at once again.
                    failure = "\(error)"
                    sleep(until: min(end, now + ShardedDeployment.pollEvery))
                }
            }
            if !failure.isEmpty { record.notMade.append((requested, scheduled.change, failure)) }
        }
        return record
    }

    /// Polls the metaserver for versions it has not settled and walks every group to the latest
    /// (`ShardDriver.settle`), until the run ends; the bucket moves as the groups' answers timed
    /// them. As in the simulator, a step waits for its group (one without a leader holds the
    /// whole walk); a walk that fails is taken up again at the next poll (every step is idempotent).
    private func control() throws -> MigrationLog {
        var log = MigrationLog()
        let poller = try driver(patience: .seconds(1))
        var settled = ShardConfiguration.initial(buckets: layout.buckets)
        while now < end {
            let latest = (try? poller.latest(after: settled)) ?? settled
            if latest.number > settled.number {
                do {
                    try driver(patience: end - now).settle { step, versions in log.note(step, known: versions, at: now) }
                    settled = latest
                } catch {}
            }
            sleep(until: min(end, now + ShardedDeployment.pollEvery))
        }
        return log
    }

    private func sleep(until time: Instant) {
        let left = time - now
        if left > .zero { usleep(UInt32(clamping: left.microseconds)) }
    }

    // MARK: The result

    private func assemble(history: [HistoryOperation], transactions: TransactionLedger, changes: Operator, moves: MigrationLog) -> (SimulationResult, ShardedOutcome) {
        var held: [GroupID: ShardedDeployment.HeldBuckets] = [:]
        var scopeParts: [ShardedParts.Scope] = []
        var decisions: [String: [NodeID: Bool]] = [:]
        for (index, scope) in scopes.enumerated() {
            let result = runs[index].result(history: [])
            let part = ShardedParts.Scope(scope, result, nodes: clusters[index].nodes)
            scopeParts.append(part)
            guard case .group(let id) = scope else { continue }
            if let holding = served(by: index, states: result.finalStates) { held[id] = holding }
            for node in 0..<clusters[index].nodes {
                for (transaction, committed) in clusters[index].decisions(node) ?? [:] {
                    decisions[transaction, default: [:]][NodeID(ShardedParts.offset(of: scope, sizes: scopeSizes) + node + 1)] = committed
                }
            }
        }
        let latest = changes.made.last?.version ?? .initial(buckets: layout.buckets)
        var parts = ShardedParts(scopes: scopeParts, history: history, served: ShardedDeployment.servedState(held, buckets: layout.buckets),
                                 changes: changes.made, migrations: moves.windows, latest: latest)
        parts.transactions = transactions
        parts.decisions = decisions
        var (result, outcome) = ShardedRun.assemble(parts)
        for missed in changes.notMade {
            result.events.append(EventRecord(time: missed.at, node: nil, event: .note(kind: "configuration",
                                                                                       detail: "\(missed.change.summary) not made by the end: \(missed.reason)")))
        }
        result.events = result.events.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
        return (result, outcome)
    }

    /// What group cluster `index` serves at the end: its leader's buckets and data (or, with no
    /// leader, its lowest-numbered live node's), as the simulator reads a group's store.
    private func served(by index: Int, states: [NodeID: [String: String]]) -> ShardedDeployment.HeldBuckets? {
        let cluster = clusters[index]
        let candidates = ([runs[index].leader].compactMap { $0 } + (0..<cluster.nodes)).filter(cluster.isRunning)
        for node in candidates {
            if let buckets = cluster.bucketStates(node), let data = states[NodeID(node + 1)] { return .init(states: buckets, data: data) }
        }
        return nil
    }
}

/// Runs bodies on threads of their own and waits for all; the errors they threw.
enum Concurrently {
    static func run(_ bodies: [() throws -> Void]) -> [any Error] {
        let group = DispatchGroup()
        let failures = Failures()
        for body in bodies {
            group.enter()
            let box = UncheckedBody(body)
            Thread {
                do { try box.body() } catch { failures.add(error) }
                group.leave()
            }.start()
        }
        group.wait()
        return failures.all
    }

    private final class Failures: @unchecked Sendable {
        private let lock = NSLock()
        private var errors: [any Error] = []
        func add(_ error: any Error) { lock.withLock { errors.append(error) } }
        var all: [any Error] { lock.withLock { errors } }
    }

    private struct UncheckedBody: @unchecked Sendable {
        let body: () throws -> Void
        init(_ body: @escaping () throws -> Void) { self.body = body }
    }
}
