import ConsensusCore
import Dispatch
import Foundation
import Lab
import Server
import Sharding
import Simulator
import Storage

/// `conlab run SCENARIO --real`: each run against a local cluster of `conlab serve` processes
/// (Jepsen mode), checked by the same checker and written to the same files as a simulated run,
/// with `real` in the `driver` column.
///
/// What each fault is on real processes: `crash` SIGKILL, `restart` the same node started again
/// on its data directory, `pause`/`resume` SIGSTOP/SIGCONT, `partition` (every shape), `one-way`,
/// `drop` and `heal` a filter in each node's transport that the runner sets over the node's
/// authenticated admin channel (`AdminProtocol`); the scenario's `network` and the `network`
/// fault's latency, loss, duplication and reordering are drawn per frame in the same transport
/// (this kernel has no `tc netem`); `clock` is the rate of the backend's clock in the node,
/// `slow` processing time added to each input, `reject` the protocol-level fault armed in the
/// node's backend over the same channel, as the simulator arms it. A scenario with a fault the
/// real driver has no counterpart for is refused before anything runs (`validate`).
///
/// An external backend (`{"external": "etcd"}`, `ExternalSystem`) runs the same way against the
/// system's own processes, which the lab starts (`ExternalCluster`), with the faults that act on
/// a process (`crash`, `restart`, `pause`, `resume`, `heal`) and the partitions, one-way cuts and
/// link latency a `PeerProxy` in front of its links carries out. Every other fault needs the
/// admin channel inside our nodes and is refused for it (`validateExternal`), as are event
/// triggers, a staggered start, and a scenario network with loss, duplication or reordering.
///
/// Under `--network netns` (`RealNetwork.namespaces`, root only) every node lives in a network
/// namespace of its own and partitions and one-way cuts are the kernel's (`NamespaceNetwork`),
/// for our nodes and external systems alike; everything else is as on loopback, but an external
/// system's links take no latency but their own (no proxy, and no `netem` in this kernel).
public struct RealDriver: RunDriver {
    /// The `conlab` executable whose `serve` the nodes run.
    public var executable: String
    /// Where each run's cluster folder goes (removed after the run unless `keepClusters`).
    public var workDirectory: String
    /// Keep each run's cluster folder (logs, data directories) for inspection.
    public var keepClusters: Bool
    /// Where the nodes live and who cuts their links.
    public var network: RealNetwork

    public init(executable: String = NodeProcesses.currentExecutable(), workDirectory: String = NSTemporaryDirectory(), keepClusters: Bool = false,
                network: RealNetwork = .loopback) {
        self.executable = executable
        self.workDirectory = workDirectory
        self.keepClusters = keepClusters
        self.network = network
    }

    public var name: String { "real" }

    public func validate(_ scenario: Scenario) throws(ScenarioError) {
        func refuse(_ path: String, _ what: String) -> ScenarioError {
            ScenarioError(file: scenario.file, path: path, reason: "\(what): the real driver (--real) has no counterpart for it (\(Self.pageCache)); run it in the simulator")
        }
        for (index, step) in scenario.faults.enumerated() {
            if let what = Self.unsupported(step.action) { throw refuse("faults[\(index)]", what) }
        }
        if let layout = scenario.sharded { try validateSharded(scenario, layout) }
        for fault in scenario.nemesis?.faults ?? [] where fault == .disk {
            throw refuse("nemesis.faults", "nemesis fault `\(fault.rawValue)`")
        }
        if !scenario.storage.fsync { throw refuse("storage.fsync", "the unsafe disk (fsync: false)") }
        if scenario.storage.faults != DiskFaults() { throw refuse("storage.faults", "disk fault rates") }
        if let external = scenario.backends.first(where: { $0.external != nil }) {
            try Self.validateExternal(scenario, backend: external.label)
            if network == .namespaces { try Self.validateExternalInNamespaces(scenario, backend: external.label) }
        }
    }

    /// What a sharded deployment on real processes cannot take: a planted bug (a cluster file
    /// plants none) and network namespaces (one set per cluster is not built). Faults aimed at
    /// one group are checked as the scenario's own are.
    private func validateSharded(_ scenario: Scenario, _ layout: ShardedLayout) throws(ScenarioError) {
        func refuse(_ path: String, _ what: String) -> ScenarioError {
            ScenarioError(file: scenario.file, path: path, reason: "\(what): a sharded deployment on real processes (--real) does not run it; run it in the simulator")
        }
        if layout.bug != .none { throw refuse("sharded.bug", "a planted bug") }
        if network == .namespaces { throw refuse("sharded", "network namespaces (--network netns)") }
        for scoped in layout.scopedFaults {
            if let what = Self.unsupported(scoped.step.action) { throw refuse("faults", "\(what) in \(scoped.scope)") }
        }
    }

    /// What an external system in network namespaces cannot take besides: latency. Without the
    /// proxy nothing stands in its links to delay them, and this kernel has no `netem`. The
    /// scenario's default network (a LAN's 0.5–1.5 ms) is taken to be what the veth pairs on one
    /// machine are; any other latency is refused rather than silently left out.
    static func validateExternalInNamespaces(_ scenario: Scenario, backend: String) throws(ScenarioError) {
        func refuse(_ path: String, _ what: String) -> ScenarioError {
            ScenarioError(file: scenario.file, path: path, reason: "\(what): external backend \(backend) in network namespaces (--network netns) "
                          + "has no proxy to delay its links and this kernel no netem; run it without --network netns, or leave it out with --backend")
        }
        for (index, step) in scenario.faults.enumerated() {
            if case .network(let change) = step.action, change.latency != nil { throw refuse("faults[\(index)]", "link latency") }
        }
        if scenario.network.latency != LinkProfile().latency { throw refuse("network.latency", "a latency other than the default") }
    }

    /// What an external system cannot take: any fault that our nodes carry out inside their
    /// transport or step loop over their admin channel, except the link cuts and latency that the
    /// proxy in front of the system's links carries out (`PeerProxy`).
    static func validateExternal(_ scenario: Scenario, backend: String) throws(ScenarioError) {
        func refuse(_ path: String, _ what: String) -> ScenarioError {
            ScenarioError(file: scenario.file, path: path, reason: "\(what) needs the admin channel of our own nodes: external backend \(backend) takes only "
                          + "crash, restart, pause, resume, partition, one-way, heal and network latency (leave it out with --backend)")
        }
        for (index, step) in scenario.faults.enumerated() {
            if case .on = step.when { throw refuse("faults[\(index)].when", "an event trigger") }
            switch step.action {
            case .crash, .restart, .pause, .resume, .heal: continue
            case .partition, .partitionShape, .oneWay, .restoreNetwork: continue
            // The proxy delays bytes; it cannot lose, duplicate or reorder what TCP carries.
            case .network(let change) where [change.loss, change.duplicate, change.reorder].allSatisfy({ ($0 ?? 0) == 0 }): continue
            default: throw refuse("faults[\(index)]", "fault `\(step.action.description)`")
            }
        }
        for fault in scenario.nemesis?.faults ?? [] where ![.crash, .crashMajority, .pause, .partition, .oneWay].contains(fault) {
            throw refuse("nemesis.faults", "nemesis fault `\(fault.rawValue)`")
        }
        if !scenario.startTimes.isEmpty { throw refuse("start", "a staggered start") }
        let network = scenario.network
        if network.loss > 0 || network.duplicate > 0 || network.reorder > 0 { throw refuse("network", "a network with loss, duplication or reordering") }
        if scenario.clientLink != .local { throw refuse("network.clientLatency", "client latency") }
    }

    /// Why the storage faults but a flipped bit have no real counterpart: what a node wrote is in
    /// the kernel's page cache and survives its SIGKILL synced or not, so neither skipping `fsync`
    /// nor losing or misplacing a synced write can happen to a process on demand — only to a
    /// machine losing power or a block device built to misbehave (dm-flakey, as root). The
    /// simulator's storage model is where those outcomes are studied.
    static let pageCache = "a process killed by SIGKILL loses nothing the kernel's page cache holds; only a power cut or a fault-injecting block device could lose an unsynced or synced write"

    /// What the real driver cannot carry out of `action`, named as the scenario names it.
    static func unsupported(_ action: FaultAction) -> String? {
        switch action {
        case .disk(_, .bitFlip): nil
        case .disk(_, let fault): "fault kind `disk` `\(fault.rawValue)`"
        default: nil
        }
    }

    public func execute(_ spec: RunSpec) throws -> RunOutput {
        let start = DispatchTime.now()
        let directory = (workDirectory as NSString).appendingPathComponent("conlab-real-\(spec.id)-\(UUID().uuidString.prefix(8))")
        if let layout = spec.scenario.sharded { return try executeSharded(spec, layout, directory: directory, start: start) }
        let namespaces = network == .namespaces ? try NamespaceNetwork(nodes: spec.scenario.nodes) : nil
        // Runs after the cluster's stop (defers run last first): a namespace must be empty to go.
        defer { namespaces?.tearDown() }
        let cluster: any RealCluster = if let external = spec.backend.external {
            try ExternalCluster.launch(external, nodes: spec.scenario.nodes, directory: directory, namespaces: namespaces)
        } else {
            try ProcessCluster(executable: executable, directory: directory, backend: spec.backend, nodes: spec.scenario.nodes,
                               requestTimeout: spec.scenario.workload.timeout, namespaces: namespaces)
        }
        var succeeded = false
        defer { cluster.stopAll(keepingFiles: keepClusters || !succeeded) }
        let result = try RealRun(config: spec.scenario.simulationConfig(seed: spec.seed), cluster: cluster).run()
        succeeded = true
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return RunOutput(spec: spec, result: result, driver: name, wallSeconds: seconds)
    }
}

extension RealDriver {
    /// A sharded scenario's run: every group and the metaserver a cluster of processes (`ShardedRealRun`).
    private func executeSharded(_ spec: RunSpec, _ layout: ShardedLayout, directory: String, start: DispatchTime) throws -> RunOutput {
        let run = try ShardedRealRun(spec: spec, layout: layout, executable: executable, directory: directory)
        var succeeded = false
        defer { run.stopAll(keepingFiles: keepClusters || !succeeded) }
        let (result, outcome) = try run.run()
        succeeded = true
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        return RunOutput(spec: spec, result: result, driver: name, wallSeconds: seconds, sharded: outcome)
    }
}

/// Where a real run's nodes live, and so who cuts their links.
public enum RealNetwork: Sendable, Hashable {
    /// Every node on the machine's loopback: our nodes cut their links in their transport (the
    /// admin channel's filter), an external system's links run through a `PeerProxy`.
    case loopback
    /// Every node in a network namespace of its own; the kernel cuts links (`iptables`), as in
    /// Jepsen. Root only.
    case namespaces

    /// The option's value, `--network loopback|netns`.
    public init?(option: String) {
        switch option {
        case "loopback": self = .loopback
        case "netns": self = .namespaces
        default: return nil
        }
    }

    /// Why this process cannot use this network, nil when it can.
    public var unavailable: String? { self == .namespaces ? NamespaceNetwork.unavailable() : nil }
}
