import ConsensusCore
import KVStore
import Simulator

/// One experiment setting, decoded and validated from a scenario file (one per sweep point).
public struct Scenario: Sendable {
    public var name: String
    public var description: String
    /// The file it came from, for messages.
    public var file: String
    public var nodes: Int
    public var duration: TimeSpan
    public var quiescence: TimeSpan
    public var seeds: [UInt64]
    public var backends: [BackendSpec]
    public var workload: WorkloadConfig
    public var network: LinkProfile
    public var clientLink: LinkProfile
    public var storage: StorageModel
    public var processing: LatencyDistribution
    public var faults: [FaultStep]
    /// Random faults drawn from each run's seed, on top of `faults`.
    public var nemesis: Nemesis?
    public var startTimes: [NodeID: Instant]
    /// The sweep values of this point (`network.loss=0.05`), empty without a sweep.
    public var sweepLabel: String
    /// A sharded deployment of Raft groups (`"sharded"`); nil for one cluster of `nodes` nodes.
    /// Then `nodes` is the size of one group, and `faults` are the steps that act in every group.
    public var sharded: ShardedLayout? = nil

    /// The simulator configuration of one run.
    public func simulationConfig(seed: UInt64) -> SimulationConfig {
        SimulationConfig(nodes: nodes, seed: seed, duration: duration, quiescence: quiescence, healAtEnd: true,
                         network: network, clientLink: clientLink, storage: storage, processingTime: processing,
                         workload: workload, faults: faults + (nemesis?.schedule(seed: seed, nodes: nodes, duration: duration) ?? []),
                         startTimes: startTimes)
    }
}

/// A backend as a scenario names it, with its options.
public struct BackendSpec: Sendable {
    public var kind: BackendKind
    /// Options in file order, already validated by the backend.
    public var options: [(name: String, value: JSONValue)]
    /// The options that differ from the defaults, `read=lease;prevote=false`; empty for defaults.
    public var variant: String
    /// Runs one simulation with exactly these options (applied once, when the scenario was read).
    let simulate: @Sendable (SimulationConfig) -> SimulationResult
    /// The client sessions the backend keeps, as configured (checked against the workload).
    package let sessions: SessionOptions
    /// The backend type with these options, for code generic over the backend (`visit`).
    let bound: any BoundBackend
    /// The external system this backend is (`{"external": "etcd"}`), nil for one of ours: only
    /// the real driver runs it, and it keeps no client sessions.
    public let external: ExternalBackend?

    /// `configured` is `kind.configure(options)`: the options validated and bound once, so that a
    /// run can never fall back to the defaults under the variant's label.
    init(kind: BackendKind, options: [(name: String, value: JSONValue)], configured: BackendKind.Configured) {
        self.kind = kind
        self.options = options
        variant = configured.variant
        simulate = configured.simulate
        sessions = configured.sessions
        bound = configured.bound
        external = configured.external
    }

    /// Runs `visitor` with the backend's type and these options: how a `conlab serve` process
    /// becomes a node of the backend a cluster file names.
    public func visit<V: BackendVisitor>(_ visitor: V) -> V.Output { bound.accept(visitor) }

    public var label: String { variant.isEmpty ? kind.name : "\(kind.name)[\(variant)]" }

    /// The names `--backend` accepts for this backend: the protocol (every variant of it), the
    /// exact label as the scenario lists it (`raft[read=lease]`), and the label as run ids and the
    /// terminal table spell it (`raft_read_lease`).
    var selectors: [String] {
        [kind.name, label, (variant.isEmpty ? kind.name : "\(kind.name)_\(variant)").fileSafe]
    }
}
