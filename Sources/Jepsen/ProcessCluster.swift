import ConsensusCore
import Foundation
import Glibc
import Lab
import Runtime
import Server
import Sharding
import Simulator

/// A local cluster of `conlab serve` processes for one real run: free loopback ports, a folder of
/// its own (cluster file, secret, data directories, logs), and an authenticated admin connection
/// to each running node. Crashes are SIGKILL, restarts start the same node on its data directory,
/// pauses are SIGSTOP and SIGCONT. `stopAll()` kills exactly the processes it started, by pid;
/// the run calls it on every path, errors included.
final class ProcessCluster: RealCluster {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A node's process ended while it started: it refused its data directory (a corrupt log
    /// record) or could not open its sockets. `reason` is the last line of its log.
    struct Refused: Error, CustomStringConvertible {
        var node: Int
        var reason: String
        var description: String { "n\(node + 1) exited while starting: \(reason)" }
    }

    let executable: String
    let directory: String
    let configuration: ClusterConfiguration
    /// The namespaces the nodes live in under `--network netns`, whose links the kernel cuts.
    let namespaces: NamespaceNetwork?
    /// The running process of each node (n1 is 0); nil while crashed.
    private(set) var pids: [pid_t?]
    private var admins: [AdminClient?]
    /// Per node, the number of the next observation not read yet (`AdminProtocol`'s `events`);
    /// a process starts counting from 0.
    private var nextObservation: [Int]
    /// Whether each node has started once (a restart of a never-started node is a start).
    private(set) var started: [Bool]

    /// How long a node may take to answer on its admin channel after it was started.
    static let startTimeout: TimeInterval = 20

    /// Writes the cluster's folder and file for `backend` on `nodes` nodes (each in a namespace of
    /// `namespaces` when given; a server group of a sharded store when `shardGroup` names it);
    /// starts nothing.
    init(executable: String, directory: String, backend: BackendSpec, nodes: Int, requestTimeout: TimeSpan, namespaces: NamespaceNetwork?,
         shardGroup: (group: GroupID, buckets: Int)? = nil) throws {
        self.executable = executable
        self.directory = directory
        self.namespaces = namespaces
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ports = try LoopbackPorts.free(3 * nodes)
        let homes = namespaces?.homes ?? Array(repeating: .loopback, count: nodes)
        func address(_ node: Int, _ port: UInt16) -> JSONValue { .string(homes[node].address(port: port).description) }
        var secret = SystemRandomNumberGenerator()
        let key = (0..<4).map { _ in String(secret.next(), radix: 16) }.joined()
        let members = (0..<nodes).map { index in
            JSONValue.object([("id", .string("n\(index + 1)")), ("peer", address(index, ports[nodes + index])),
                              ("client", address(index, ports[index])), ("admin", address(index, ports[2 * nodes + index]))])
        }
        let backendValue = JSONValue.object([("protocol", .string(backend.kind.name)),
                                             ("options", .object(backend.options.map { ($0.name, $0.value) }))])
        var fields: [(String, JSONValue)] = [("version", .number(Double(ClusterFile.version))), ("cluster", .number(Double(UInt64.random(in: 0..<1_000_000_000)))),
                                             ("secret", .string(key)), ("backend", backendValue),
                                             ("requestTimeout", .string(requestTimeout.description)), ("nodes", .array(members))]
        if let shardGroup {
            fields.append(("shardGroup", .object([("group", .string(shardGroup.group.description)), ("buckets", .number(Double(shardGroup.buckets)))])))
        }
        let document = JSONValue.object(fields)
        let file = (directory as NSString).appendingPathComponent(ClusterLauncher.fileName)
        try Data(document.serialized.utf8).write(to: URL(fileURLWithPath: file))
        configuration = try ClusterFile.load(path: file)
        pids = Array(repeating: nil, count: nodes)
        admins = Array(repeating: nil, count: nodes)
        nextObservation = Array(repeating: 0, count: nodes)
        started = Array(repeating: false, count: nodes)
    }

    func clientAddress(_ node: Int) -> SocketAddress { configuration.members[node].client }
    func logFile(_ node: Int) -> String { (directory as NSString).appendingPathComponent("n\(node + 1).log") }

    /// Starts node `node` on its data directory and waits until its admin channel answers.
    /// Returns the pid.
    @discardableResult
    func start(_ node: Int) throws -> pid_t {
        precondition(pids[node] == nil, "n\(node + 1) is running")
        let data = (directory as NSString).appendingPathComponent("n\(node + 1)")
        let home = namespaces?.homes[node] ?? .loopback
        let pid = try home.spawn(executable, ["serve", "--cluster", configuration.file, "--node", "n\(node + 1)", "--data", data,
                                              "--parent", String(getpid())],
                                 logFile: logFile(node))
        pids[node] = pid
        started[node] = true
        nextObservation[node] = 0
        let deadline = Date().addingTimeInterval(Self.startTimeout)
        while true {
            if let admin = try? connectAdmin(node) {
                admins[node] = admin
                return pid
            }
            if waitpid(pid, nil, WNOHANG) == pid {
                pids[node] = nil
                let log = (try? String(contentsOfFile: logFile(node), encoding: .utf8)) ?? ""
                throw Refused(node: node, reason: log.split(separator: "\n").last.map(String.init) ?? "no log")
            }
            guard Date() < deadline else {
                throw Failure(description: "n\(node + 1) did not open its admin channel within \(Int(Self.startTimeout)) s; see \(logFile(node))")
            }
            usleep(20_000)
        }
    }

    /// SIGKILL, and the process reaped.
    func kill(_ node: Int) {
        guard let pid = pids[node] else { return }
        Glibc.kill(pid, SIGKILL)
        _ = waitpid(pid, nil, 0)
        pids[node] = nil
        admins[node] = nil
    }

    /// The step and monotonic time a node that stopped itself at a trigger left (and forgets it).
    func takeTrigger(_ node: Int) -> (step: Int, time: Instant)? {
        let path = (directory as NSString).appendingPathComponent("n\(node + 1)/\(AdminProtocol.triggerFile)")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        try? FileManager.default.removeItem(atPath: path)
        let words = text.split(whereSeparator: \.isWhitespace)
        guard words.count == 2, let step = Int(words[0]), let time = Int64(words[1]) else { return nil }
        return (step, Instant(microseconds: time))
    }

    /// The `disk` fault `bit-flip` on a real node: one bit of its log, in a file and at an offset
    /// drawn from `random`, flips on the disk now (written by this process, beside the node's own
    /// writes). As in the simulator the node meets the damage when it next recovers; nothing
    /// happens without a non-empty log file. Returns what was flipped, for the events.
    func flipBit(_ node: Int, random: inout DeterministicRandom) -> String? {
        let log = (directory as NSString).appendingPathComponent("n\(node + 1)/log")
        let files = (FileManager.default.subpaths(atPath: log) ?? []).sorted().filter { path in
            let size = (try? FileManager.default.attributesOfItem(atPath: log + "/" + path)[.size] as? Int) ?? 0
            return size > 0
        }
        guard !files.isEmpty else { return nil }
        let file = files[random.index(below: files.count)], path = log + "/" + file
        guard let handle = FileHandle(forUpdatingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let size = Int((try? handle.seekToEnd()) ?? 0)
        guard size > 0 else { return nil }
        let offset = random.index(below: size), bit = random.index(below: 8)
        try? handle.seek(toOffset: UInt64(offset))
        guard let byte = try? handle.read(upToCount: 1)?.first else { return nil }
        try? handle.seek(toOffset: UInt64(offset))
        try? handle.write(contentsOf: Data([byte ^ UInt8(1 << bit)]))
        return "flipped bit \(bit) of byte \(offset) of log/\(file)"
    }

    func pause(_ node: Int) { if let pid = pids[node] { Glibc.kill(pid, SIGSTOP) } }

    func resume(_ node: Int) { if let pid = pids[node] { Glibc.kill(pid, SIGCONT) } }

    /// Lets a node that stopped itself at a trigger go on, leaving it `commands` (admin lines) to
    /// carry out as it wakes, before anything else (`AdminProtocol.wakeFile`; written even when
    /// empty: the node waits for it).
    func wake(_ node: Int, applying commands: [String]) {
        let path = (directory as NSString).appendingPathComponent("n\(node + 1)/\(AdminProtocol.wakeFile)")
        _ = FileManager.default.createFile(atPath: path, contents: Data(commands.map { $0 + "\n" }.joined().utf8))
        resume(node)
    }

    /// One admin command to a running node; nil when it is down or does not answer (a paused
    /// node is never asked: its answer would wait for the resume).
    @discardableResult
    func admin(_ node: Int, _ command: String) -> String? {
        guard pids[node] != nil else { return nil }
        do {
            // A connection lost (a node that stopped itself at a trigger mid-call) is made again.
            if admins[node] == nil { admins[node] = try connectAdmin(node) }
            return try admins[node]!.call(command)
        } catch {
            admins[node] = nil
            return nil
        }
    }

    /// A node answers its admin channel within microseconds; the bound is for a node that
    /// stopped itself at a trigger in the middle of a call (it answers after SIGCONT).
    private func connectAdmin(_ node: Int) throws -> AdminClient {
        try AdminClient(connectingTo: configuration.members[node].admin!, secret: configuration.secret, timeout: .milliseconds(500))
    }

    var cutsLinksOutside: Bool { namespaces != nil }

    /// Each node shapes its own links (`link`, set by the run over the admin channel), and cuts
    /// them itself (`cut`) unless the kernel does.
    func setLinks(reachable: [[Bool]], latency: [[LatencyDistribution]]) throws { try namespaces?.cut(reachable: reachable) }

    /// Observations are acknowledged by number: an answer lost to an admin call that timed out
    /// is asked for again at the next poll instead of being lost with the node's copy.
    func events(_ node: Int) -> [JSONValue] {
        guard let text = admin(node, "events \(nextObservation[node])"), let space = text.firstIndex(of: " "),
              let first = Int(text[..<space]), case .array(let items)? = try? JSONValue(parsing: String(text[text.index(after: space)...])) else { return [] }
        let unread = items.dropFirst(max(nextObservation[node] - first, 0))
        nextObservation[node] = first + items.count
        return Array(unread)
    }

    /// Our clients: one RESP connection each on one event loop, with exactly-once sessions.
    func startClients(_ config: SimulationConfig, origin: Instant) throws -> any RunClients {
        LoopClients(loop: try EventLoop(), routes: PinnedRoutes((0..<nodes).map(clientAddress)), config: config, origin: origin)
    }

    /// Each running node's applied data, as its admin channel's `state` gives it.
    func finalStates() -> [NodeID: [String: String]] {
        var states: [NodeID: [String: String]] = [:]
        for node in 0..<nodes {
            guard let text = admin(node, "state"), let value = try? JSONValue(parsing: text), case .object(let fields) = value else { continue }
            states[NodeID(node + 1)] = Dictionary(fields.compactMap { field in
                guard case .string(let text) = field.value else { return nil }
                return (field.key, text)
            }, uniquingKeysWith: { $1 })
        }
        return states
    }

    /// What a shard group's running node holds of each bucket (`buckets` on its admin channel);
    /// nil when it is down, does not answer, or serves no shard group.
    func bucketStates(_ node: Int) -> [BucketState]? {
        guard let text = admin(node, "buckets") else { return nil }
        let states = text.split(separator: " ").map(AdminProtocol.bucketState)
        return states.contains(nil) ? nil : states.compactMap { $0 }
    }

    /// Every cross-shard transaction a shard group's running node decided (`decisions`); nil
    /// when it is down, does not answer, or serves no shard group.
    func decisions(_ node: Int) -> [String: Bool]? {
        guard let text = admin(node, "decisions"), case .object(let fields)? = try? JSONValue(parsing: text) else { return nil }
        return Dictionary(fields.compactMap { field in
            guard case .bool(let committed) = field.value else { return nil }
            return (field.key, committed)
        }, uniquingKeysWith: { $1 })
    }

    /// Kills every process still running (the run is over, nothing needs a clean stop) and
    /// removes the folder unless `keep`.
    func stopAll(keepingFiles keep: Bool) {
        for node in pids.indices where pids[node] != nil {
            Glibc.kill(pids[node]!, SIGCONT)
            kill(node)
        }
        if !keep { try? FileManager.default.removeItem(atPath: directory) }
    }
}
