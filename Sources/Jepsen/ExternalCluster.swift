import ConsensusCore
import Foundation
import Glibc
import Lab
import Runtime
import Simulator

/// One external system's processes for a run, as its launcher (`EtcdMembers`,
/// `RedisSentinelGroup`) started them: the whole system at once, serving, before the run begins.
protocol ExternalMembers: AnyObject {
    /// The process each node's faults hit (etcd: the member; Redis: its redis-server), nil while
    /// it is down.
    var pids: [pid_t?] { get }
    /// Starts node `node`'s process again on its data after a crash and waits until it serves.
    func restart(_ node: Int) throws -> pid_t
    /// SIGKILL, and the process reaped.
    func kill(_ node: Int)
    /// The connection of a client of node `node`: the per-system client adapter.
    func connection(home node: Int, cheapReads: Bool, timeout: TimeSpan) -> any ExternalConnection
    /// Which member's peer traffic reaches which, and with what added latency, through the
    /// system's proxy.
    func setLinks(reachable: [[Bool]], latency: [[LatencyDistribution]])
    /// The node's role as the system itself reports it, nil when it does not answer.
    func role(of node: Int) -> (role: Role, term: UInt64, name: String)?
    /// The node's own copy of the data, nil when it cannot be read.
    func data(of node: Int) -> [String: String]?
    /// Stops every process it started, by pid; removes its folder unless `keepingFiles`.
    func stop(keepingFiles: Bool)
}

/// A cluster of an external system under a real run: its launcher's processes behind the shape
/// `RealRun` drives. Crash, restart, pause and resume act on the node's process; there is no
/// admin channel (the real driver refuses the faults that need one), so what the run hears of
/// each node is its role, asked of the system on every poll.
final class ExternalCluster: RealCluster {
    let members: any ExternalMembers
    let backend: ExternalBackend
    /// The namespaces the members live in under `--network netns`, whose links the kernel cuts.
    let namespaces: NamespaceNetwork?
    private(set) var started: [Bool]
    /// The role last reported per node, so that `events` says only what changed.
    private var reported: [(role: Role, term: UInt64)?]

    init(members: any ExternalMembers, backend: ExternalBackend, namespaces: NamespaceNetwork?) {
        self.members = members
        self.backend = backend
        self.namespaces = namespaces
        started = Array(repeating: true, count: members.pids.count)
        reported = Array(repeating: nil, count: members.pids.count)
    }

    /// Starts the system `backend` names on `nodes` nodes in `directory` (each in a namespace of
    /// `namespaces` when given) and waits until it serves.
    static func launch(_ backend: ExternalBackend, nodes: Int, directory: String, namespaces: NamespaceNetwork?) throws -> ExternalCluster {
        let members: any ExternalMembers = switch backend {
        case .etcd(let options): try EtcdMembers(nodes: nodes, directory: directory, options: options, homes: namespaces?.homes)
        case .redisSentinel: try RedisSentinelGroup(nodes: nodes, directory: directory, homes: namespaces?.homes)
        }
        return ExternalCluster(members: members, backend: backend, namespaces: namespaces)
    }

    /// The binary `name` on PATH; a missing one is an error naming the Debian package.
    static func executable(_ name: String, package: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        guard let found = path.split(separator: ":").map({ "\($0)/\(name)" }).first(where: FileManager.default.isExecutableFile) else {
            throw ProcessCluster.Failure(description: "\(name) is not installed (not on PATH); install it with: apt-get install -y \(package)")
        }
        return found
    }

    var pids: [pid_t?] { members.pids }

    /// The launcher started every node before the run: starting a running node is finding it.
    func start(_ node: Int) throws -> pid_t {
        if let pid = members.pids[node] { return pid }
        reported[node] = nil
        return try members.restart(node)
    }

    func kill(_ node: Int) {
        members.kill(node)
        reported[node] = nil
    }

    func pause(_ node: Int) { if let pid = pids[node] { Glibc.kill(pid, SIGSTOP) } }

    func resume(_ node: Int) { if let pid = pids[node] { Glibc.kill(pid, SIGCONT) } }

    func admin(_ node: Int, _ command: String) -> String? { nil }

    func takeTrigger(_ node: Int) -> (step: Int, time: Instant)? { nil }
    /// Never reached: an external system has no triggers (`RealDriver.validateExternal`).
    func wake(_ node: Int, applying commands: [String]) { resume(node) }

    var cutsLinksOutside: Bool { true }

    func setLinks(reachable: [[Bool]], latency: [[LatencyDistribution]]) throws {
        guard let namespaces else { return members.setLinks(reachable: reachable, latency: latency) }
        try namespaces.cut(reachable: reachable)
    }

    func flipBit(_ node: Int, random: inout DeterministicRandom) -> String? { nil }

    func events(_ node: Int) -> [JSONValue] {
        let time = MonotonicClock.now()
        guard let now = members.role(of: node), reported[node].map({ $0.role != now.role || $0.term != now.term }) ?? true else { return [] }
        reported[node] = (now.role, now.term)
        return [.array([.string("role"), .number(Double(time.microseconds)), .string(now.role.rawValue), .number(Double(now.term)), .string(now.name)])]
    }

    func startClients(_ config: SimulationConfig, origin: Instant) throws -> any RunClients {
        let members = members, cheapReads = backend.cheapReads, timeout = config.workload.timeout
        return ExternalClients(nodes: nodes, config: config, origin: origin) { node in
            members.connection(home: node, cheapReads: cheapReads, timeout: timeout)
        }
    }

    func finalStates() -> [NodeID: [String: String]] {
        var states: [NodeID: [String: String]] = [:]
        for node in 0..<nodes where isRunning(node) { states[NodeID(node + 1)] = members.data(of: node) }
        return states
    }

    func stopAll(keepingFiles keep: Bool) {
        for pid in pids.compactMap({ $0 }) { Glibc.kill(pid, SIGCONT) }
        members.stop(keepingFiles: keep)
    }
}
