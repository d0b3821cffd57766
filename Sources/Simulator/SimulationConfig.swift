import ConsensusCore
import Storage

/// Everything a simulated run needs besides the backend type and its options.
public struct SimulationConfig: Sendable {
    public var nodes: Int
    public var seed: UInt64
    /// Clients issue operations during [0, duration); operations in flight then get until their
    /// timeout; then (with `healAtEnd`) every fault is undone and the cluster runs `quiescence` more
    /// without clients before replica states are compared.
    public var duration: TimeSpan
    public var quiescence: TimeSpan
    public var healAtEnd: Bool
    /// Links between nodes.
    public var network: LinkProfile
    /// Links between a client and the node it is pinned to.
    public var clientLink: LinkProfile
    public var storage: StorageModel
    /// CPU time a node spends on one input; inputs queue while the node is busy. `slow` multiplies
    /// it. A distribution other than `.fixed` adds scheduling noise: timers then fire a little late,
    /// by a different amount on each node, as on real machines.
    public var processingTime: LatencyDistribution
    /// How late a node's timers fire (operating-system scheduling): nil for exactly on time.
    /// Real timers are never exact, and without that noise identical timeouts stay in lockstep.
    public var timerSlack: LatencyDistribution?
    public var workload: WorkloadConfig
    public var faults: [FaultStep]
    /// Nodes that start later than time zero (staggered start); they start with empty storage.
    public var startTimes: [NodeID: Instant]
    /// Record the messages of this window one by one (`SimulationResult.messageTrace`); nil, the
    /// default, records none. Recording changes nothing else about the run.
    public var messageTrace: MessageTraceWindow?
    /// The id of the run's first client; the others follow. Simulations that share clients (the
    /// server groups of a sharded store, whose stores hand client sessions to each other) start
    /// far apart, as real clients' ids, drawn at random, do not collide.
    public var firstClientID = 1

    public init(nodes: Int = 5, seed: UInt64 = 1, duration: TimeSpan = .seconds(10), quiescence: TimeSpan = .seconds(2),
                healAtEnd: Bool = true, network: LinkProfile = LinkProfile(), clientLink: LinkProfile = .local,
                storage: StorageModel = StorageModel(), processingTime: LatencyDistribution = .fixed(.microseconds(10)), timerSlack: LatencyDistribution? = nil,
                workload: WorkloadConfig = WorkloadConfig(), faults: [FaultStep] = [], startTimes: [NodeID: Instant] = [:]) {
        self.nodes = nodes
        self.seed = seed
        self.duration = duration
        self.quiescence = quiescence
        self.healAtEnd = healAtEnd
        self.network = network
        self.clientLink = clientLink
        self.storage = storage
        self.processingTime = processingTime
        self.timerSlack = timerSlack
        self.workload = workload
        self.faults = faults
        self.startTimes = startTimes
    }

    /// When clients stop issuing operations.
    public var workloadEnd: Instant { .zero + duration }
    /// When operations still in flight are given up (just after the last one's timeout).
    public var drainEnd: Instant { workloadEnd + workload.timeout + .milliseconds(1) }
    /// When the run ends, after the heal and the quiescence.
    public var end: Instant { drainEnd + quiescence }
}

/// How the simulated disk behaves.
public struct StorageModel: Hashable, Sendable {
    /// What a node's durable state lives in.
    public enum Engine: String, CaseIterable, Hashable, Sendable {
        /// `MemoryStorage`: durable state as values; a crash drops what was not synced.
        case memory
        /// `FileStorage` over a `SimulatedFileSystem` per node, so that the real log's recovery runs
        /// under the simulator's crashes and `faults`: every restart reopens the node's directory,
        /// repairs a torn tail (`torn-tail` event) or refuses a corrupt record (`restart-failed`,
        /// and the node stays down).
        case file
    }

    public var engine: Engine
    /// What the simulated disk gets wrong (file engine only).
    public var faults: DiskFaults
    /// Sync before anything that depends on a write leaves the node. `false` is the deliberately
    /// unsafe mode (like `forceSync=no`): writes reach the disk only every `flushInterval`, and a crash
    /// loses the rest — acknowledged writes can be lost.
    public var fsync: Bool
    /// Time one fsync takes; a node's fsyncs are serialised.
    public var syncLatency: TimeSpan
    /// With `fsync: false`, how often the operating system flushes on its own.
    public var flushInterval: TimeSpan

    public init(engine: Engine = .memory, faults: DiskFaults = DiskFaults(), fsync: Bool = true, syncLatency: TimeSpan = .microseconds(100),
                flushInterval: TimeSpan = .seconds(1)) {
        self.engine = engine
        self.faults = faults
        self.fsync = fsync
        self.syncLatency = syncLatency
        self.flushInterval = flushInterval
    }
}
