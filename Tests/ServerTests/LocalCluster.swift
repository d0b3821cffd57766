import ConsensusCore
import Foundation
import Glibc
import Runtime
import Server

/// A cluster of real `conlab serve` processes on free loopback ports in a temporary folder, for
/// tests: start, kill and restart nodes by pid, and talk to them over RESP. `stopAll()` (call it
/// in a `defer`) kills every process it started and removes the folder.
final class LocalCluster {
    let conlab: String
    let directory: String
    let file: String
    let nodes: Int
    let clientAddresses: [SocketAddress]
    /// The clients' password (`requirepass`), when the cluster requires one.
    let password: String?
    /// The running process of each node, by index (n1 is 0).
    private(set) var pids: [pid_t?]

    /// The built `conlab` beside the test bundle, or why there is none.
    static func executable() -> Result<String, SkipReason> {
        let folder = (NodeProcesses.currentExecutable() as NSString).deletingLastPathComponent
        let path = (folder as NSString).appendingPathComponent("conlab")
        guard FileManager.default.isExecutableFile(atPath: path) else {
            return .failure(SkipReason(text: "no conlab executable at \(path): build it with `swift build --product conlab`"))
        }
        return .success(path)
    }

    struct SkipReason: Error { var text: String }

    /// Writes a cluster file for `nodes` nodes of `backend` (a cluster file's `backend` value);
    /// `extra`, if any, adds top-level members (`"shardGroup": {…},`).
    init(conlab: String, nodes: Int, backend: String, requestTimeout: String = "3s", password: String? = nil, extra: String = "") throws {
        self.conlab = conlab
        self.nodes = nodes
        self.password = password
        directory = NSTemporaryDirectory() + "conlab-real-\(UUID().uuidString.prefix(8))"
        file = directory + "/cluster.json"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ports = try Self.freePorts(2 * nodes)
        clientAddresses = (0..<nodes).map { .loopback(port: ports[$0]) }
        let members = (0..<nodes).map { index in
            "{\"id\": \"n\(index + 1)\", \"peer\": \(ports[nodes + index]), \"client\": \(ports[index])}"
        }
        let text = """
        {"version": 1, "cluster": 77, "secret": "a secret for the real-process tests",
         "backend": \(backend), "requestTimeout": "\(requestTimeout)",\(password.map { " \"requirepass\": \"\($0)\"," } ?? "") \(extra)
         "nodes": [\(members.joined(separator: ", "))]}
        """
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        pids = Array(repeating: nil, count: nodes)
    }

    func dataDirectory(_ node: Int) -> String { "\(directory)/n\(node + 1)" }
    func logFile(_ node: Int) -> String { "\(directory)/n\(node + 1).log" }
    func log(_ node: Int) -> String { (try? String(contentsOfFile: logFile(node), encoding: .utf8)) ?? "" }

    /// Starts node `node` (again) on its data directory.
    func start(_ node: Int, _ extraArguments: [String] = []) throws {
        precondition(pids[node] == nil, "n\(node + 1) is running")
        pids[node] = try NodeProcesses.spawn(conlab, arguments(node) + ["--parent", String(getpid())] + extraArguments, logFile: logFile(node))
    }

    /// `conlab serve`'s arguments for node `node`.
    func arguments(_ node: Int) -> [String] { ["serve", "--cluster", file, "--node", "n\(node + 1)", "--data", dataDirectory(node)] }

    /// Starts every node; returns the leader they agree on, or `nil` when they do not within `timeout`.
    func startAllAndAwaitLeader(timeout: TimeInterval = 15) throws -> Int? {
        for node in 0..<nodes { try start(node) }
        var leader: Int?
        _ = eventually(timeout: timeout) { leader = agreedLeader(); return leader != nil }
        return leader
    }

    /// Sends `signal` and waits for the process to end; returns its exit status (or the signal).
    @discardableResult
    func stop(_ node: Int, signal: Int32) -> (exited: Int32?, signalled: Int32?) {
        guard let pid = pids[node] else { return (nil, nil) }
        kill(pid, signal)
        pids[node] = nil
        return Self.reap(pid)
    }

    /// Waits for a process that ends on its own (a node that refuses to start).
    func waitForExit(_ node: Int, timeout: TimeInterval = 10) -> Int32? {
        guard let pid = pids[node] else { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid {
                pids[node] = nil
                return (status & 0x7f) == 0 ? (status >> 8) & 0xff : nil
            }
            usleep(20_000)
        }
        return nil
    }

    static func reap(_ pid: pid_t) -> (exited: Int32?, signalled: Int32?) {
        var status: Int32 = 0
        guard waitpid(pid, &status, 0) == pid else { return (nil, nil) }
        let signal = status & 0x7f
        return signal == 0 ? ((status >> 8) & 0xff, nil) : (nil, signal)
    }

    /// Kills every process still running and removes the folder (kept when `keep`, for a failure).
    func stopAll(keepingFiles keep: Bool = false) {
        for node in pids.indices where pids[node] != nil { stop(node, signal: SIGKILL) }
        if !keep { try? FileManager.default.removeItem(atPath: directory) }
    }

    // MARK: Talking to nodes

    func client(_ node: Int) throws(RESPClient.Failure) -> RESPClient {
        try RESPClient(connectingTo: clientAddresses[node], timeout: .seconds(5), password: password.map { Array($0.utf8) })
    }

    func answersPing(_ node: Int) -> Bool {
        (try? client(node).call("PING")) == .simple("PONG")
    }

    func info(_ node: Int) -> [String: String]? {
        try? ClusterLauncher.info(at: clientAddresses[node], password: password.map { Array($0.utf8) })
    }

    /// The running node that says it leads, with the highest term, once the others agree.
    func agreedLeader() -> Int? {
        let running = pids.indices.filter { pids[$0] != nil }
        let infos = running.compactMap { node in info(node).map { (node, $0) } }
        guard infos.count == running.count,
              let leader = infos.filter({ $0.1["role"] == "leader" }).max(by: { Int($0.1["term"]!)! < Int($1.1["term"]!)! }) else { return nil }
        let name = "n\(leader.0 + 1)"
        return infos.allSatisfy { $0.1["leader"] == name } ? leader.0 : nil
    }

    /// Sets `key` through `node`, retrying refusals and timeouts (a new command each time, as a
    /// Redis client retries) until `patience` runs out; true once a `+OK` came back.
    func set(_ key: String, _ value: String, via node: Int, patience: TimeInterval = 15) -> Bool {
        let deadline = Date().addingTimeInterval(patience)
        while Date() < deadline {
            if let reply = try? client(node).call("SET", key, value), reply == .simple("OK") { return true }
            usleep(50_000)
        }
        return false
    }

    /// Reads `key` through `node`, retrying refusals until `patience` runs out.
    func get(_ key: String, via node: Int, patience: TimeInterval = 15) -> RESPClient.Reply? {
        let deadline = Date().addingTimeInterval(patience)
        while Date() < deadline {
            if let reply = try? client(node).call("GET", key) {
                if case .error = reply {} else { return reply }
            }
            usleep(50_000)
        }
        return nil
    }

    /// Loopback ports free a moment ago, below the kernel's ephemeral range (`LoopbackPorts`): no
    /// other test's socket takes the port of a node that is down while its peers keep dialling it.
    static func freePorts(_ count: Int) throws -> [UInt16] { try LoopbackPorts.free(count) }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: TimeInterval = 15, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(50_000)
    }
    return condition()
}
