import ConsensusCore

/// One line of `events.csv`: what happened, when, and at which node (none for cluster-wide events:
/// faults, leader changes).
public struct EventRecord: Hashable, Sendable {
    public var time: Instant
    public var node: NodeID?
    public var event: SimulationEvent
    /// The server group the event happened in (`g2`, `meta`), in a sharded deployment whose
    /// groups are clusters of their own; nil in a single cluster.
    public var group: String?

    package init(time: Instant, node: NodeID?, event: SimulationEvent, group: String? = nil) {
        self.time = time
        self.node = node
        self.event = event
        self.group = group
    }

    /// The `detail` column: the event's words, after its group's name when it has one.
    public var detail: String { group.map { "\($0): \(event.detail)" } ?? event.detail }
}

/// Counts the simulator keeps while it runs.
public struct SimulationCounters: Hashable, Sendable {
    /// Events taken off the agenda (messages, timers, client wake-ups, faults).
    public var events = 0
    /// Inputs a backend processed.
    public var steps = 0
    /// Protocol messages between nodes handed to the network (lost ones included, duplicates not).
    public var messagesSent = 0
    public var bytesSent = 0
    /// Protocol messages lost to loss or cuts.
    public var messagesDropped = 0
    /// Messages between clients and nodes (requests and replies).
    public var clientMessages = 0
    /// Elections won after the first leader: how often leadership moved.
    public var leaderChanges = 0
    /// Whether the message and byte counts were measured: a real run (`conlab run --real`) does
    /// not count its nodes' messages, and its `msgs_*` and `bytes_*` columns stay empty.
    public var messagesMeasured = true

    package init() {}

    /// Adds another simulation's counts (the groups of a sharded deployment make one run).
    package mutating func add(_ other: SimulationCounters) {
        events += other.events
        steps += other.steps
        messagesSent += other.messagesSent
        bytesSent += other.bytesSent
        messagesDropped += other.messagesDropped
        clientMessages += other.clientMessages
        leaderChanges += other.leaderChanges
        messagesMeasured = messagesMeasured && other.messagesMeasured
    }
}

/// The leader as the cluster sees it over time (`nil`: no node leads).
public struct LeaderSpan: Hashable, Sendable {
    public var start: Instant
    public var leader: NodeID?
    public var term: UInt64
}

/// How many fault conditions are active from `start` on (partition, crashed nodes, …), and which
/// live nodes are cut off from a majority (their clients are on the minority side).
public struct FaultLevel: Hashable, Sendable {
    public var start: Instant
    public var active: Int
    public var description: String
    /// Live nodes that cannot exchange messages (both ways) with a majority of the cluster.
    public var minoritySide: [NodeID]

    package init(start: Instant, active: Int, description: String, minoritySide: [NodeID]) {
        self.start = start
        self.active = active
        self.description = description
        self.minoritySide = minoritySide
    }
}

/// Everything a run produced: the input of the checker and of the Lab's metrics.
public struct SimulationResult: Sendable {
    public var history: [HistoryOperation]
    public var events: [EventRecord]
    public var counters: SimulationCounters
    /// The state machine of each live node that holds a replica, at the end of the run.
    public var finalStates: [NodeID: [String: String]]
    /// Whom each live node follows or leads at the end of the run (protocols with leaders).
    public var finalLeadership: [NodeID: Leadership]
    /// Transaction decisions per transaction and node (atomic-commit backends).
    public var transactions: [UInt64: [NodeID: Bool]]
    /// Every participant's wait for a decision (atomic-commit backends), in the order they began.
    public var inDoubt: [InDoubtSpan]
    public var leaders: [LeaderSpan]
    public var faultLevels: [FaultLevel]
    /// When clients stopped issuing operations.
    public var workloadEnd: Instant
    /// When the run ended.
    public var end: Instant
    /// The messages of the trace window, when the configuration asked for one.
    public var messageTrace: MessageTrace?
    /// The nodes that hold one state machine, whose final states must agree: empty when every
    /// node does (one cluster); each server group (and the metaserver) of a sharded deployment.
    public var replicaGroups: [[NodeID]] = []
    /// What clients can read at the end, when the replicas do not all hold one state machine (a
    /// sharded deployment: each key as the group serving it holds it); nil: the replicas' majority.
    public var servedState: [String: String]?
    /// Decisions per transaction named by its coordinator (a sharded store's cross-shard
    /// transactions, `c3.t7`) and per replica of each participant; `transactions` holds 2PC's and 3PC's.
    public var namedTransactions: [String: [NodeID: Bool]] = [:]
    /// Per named transaction, the history operation of its first write (for the checker's words).
    public var namedTransactionWrites: [String: Int] = [:]

    package init(history: [HistoryOperation], events: [EventRecord], counters: SimulationCounters, finalStates: [NodeID: [String: String]],
                 finalLeadership: [NodeID: Leadership], transactions: [UInt64: [NodeID: Bool]], leaders: [LeaderSpan],
                 faultLevels: [FaultLevel], workloadEnd: Instant, end: Instant, inDoubt: [InDoubtSpan] = [], messageTrace: MessageTrace? = nil) {
        self.history = history
        self.events = events
        self.counters = counters
        self.finalStates = finalStates
        self.finalLeadership = finalLeadership
        self.transactions = transactions
        self.inDoubt = inDoubt
        self.leaders = leaders
        self.faultLevels = faultLevels
        self.workloadEnd = workloadEnd
        self.end = end
        self.messageTrace = messageTrace
    }
}

extension SimulationEvent {
    /// The event with its nodes renamed by `rename` (a group's nodes numbered across a sharded
    /// deployment). Free text — a violation's, a note's — keeps the words its cluster wrote.
    package func renumbered(_ rename: (NodeID) -> NodeID) -> SimulationEvent {
        switch self {
        case .leader(let node, let term): .leader(node.map(rename), term: term)
        case .fault(let action, let targets, let reachability): .fault(action, targets: targets.map(rename), reachability: reachability?.renumbered(rename))
        default: self
        }
    }
}

extension SimulationResult {
    /// The safety violations the backends reported during the run, in order.
    public var violations: [SafetyViolation] {
        events.compactMap { record in
            guard case .violation(let violation) = record.event else { return nil }
            return violation
        }
    }
}
