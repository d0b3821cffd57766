import ConsensusCore
import Glibc
import Server
import Simulator

/// What a real run (`RealRun`) needs of the cluster under test: its processes to crash, restart,
/// pause and resume by pid, what each node observed, the scenario's clients against it, and each
/// replica's data at the end. Our `conlab serve` nodes (`ProcessCluster`) are one such cluster;
/// an external system the lab starts (`ExternalCluster`: etcd, Redis with Sentinel) is another.
protocol RealCluster: AnyObject {
    /// The running process of each node (n1 is 0); nil while crashed.
    var pids: [pid_t?] { get }
    /// Whether each node has started once (a restart of a never-started node is a start).
    var started: [Bool] { get }
    /// Starts node `node` and waits until it serves; returns the pid. Throws
    /// `ProcessCluster.Refused` when the node refused its data (it then stays down).
    @discardableResult func start(_ node: Int) throws -> pid_t
    /// SIGKILL, and the process reaped.
    func kill(_ node: Int)
    /// SIGSTOP.
    func pause(_ node: Int)
    /// SIGCONT.
    func resume(_ node: Int)
    /// One command on the node's admin channel (`AdminProtocol`); nil when it is down, does not
    /// answer, or has no such channel (an external system: the validation refused every fault
    /// that needs one).
    @discardableResult func admin(_ node: Int, _ command: String) -> String?
    /// The step and time a node that stopped itself at an armed trigger left, if any.
    func takeTrigger(_ node: Int) -> (step: Int, time: Instant)?
    /// Lets a node that stopped itself at a trigger go on, carrying out `commands` (admin lines) first.
    func wake(_ node: Int, applying commands: [String])
    /// The `disk` fault `bit-flip`; what was flipped, nil when nothing was.
    func flipBit(_ node: Int, random: inout DeterministicRandom) -> String?
    /// Whether the cluster cuts links between nodes outside them (a proxy, or the kernel in
    /// network namespaces) rather than our nodes in their transport (the admin channel's `cut`).
    var cutsLinksOutside: Bool { get }
    /// Which node reaches which (`reachable[from][to]`) and each link's latency, for a cluster
    /// whose links the run shapes outside the nodes (a proxy, the kernel); our nodes take their
    /// link profiles, and on loopback their filter, over the admin channel instead.
    func setLinks(reachable: [[Bool]], latency: [[LatencyDistribution]]) throws
    /// What node `node` observed since it was last asked, as the admin channel's `events` items
    /// (`["role", t, role, term, name]`…, `t` in microseconds of `MonotonicClock`).
    func events(_ node: Int) -> [JSONValue]
    /// The scenario's clients, started now against this cluster (`origin` is the run's time 0).
    func startClients(_ config: SimulationConfig, origin: Instant) throws -> any RunClients
    /// Each running replica's own copy of the data, where it can be read.
    func finalStates() -> [NodeID: [String: String]]
    /// Stops exactly the processes it started, by pid; removes its folder unless `keepingFiles`.
    func stopAll(keepingFiles: Bool)
}

extension RealCluster {
    var nodes: Int { pids.count }

    func isRunning(_ node: Int) -> Bool { pids[node] != nil }

    /// Whether the node's process is stopped (by SIGSTOP: a pause, or itself at a trigger).
    func isStopped(_ node: Int) -> Bool { pids[node].flatMap(NodeProcesses.status(of:))?.state == "T" }
}

/// The scenario's clients of one run, at work from their start until the workload ends.
protocol RunClients {
    /// Ends the clients (what is still in flight stays indeterminate) and returns their history.
    func finish() -> [HistoryOperation]
}
