import ConsensusCore
import Foundation
import Glibc
import Lab
import Runtime

/// `conlab cluster up | status | down`: a local cluster of `conlab serve` processes in one folder.
///
/// The folder holds `cluster.json` (the cluster file, with each node's data directory and pid),
/// `secret` (32 random bytes, hex, readable by the owner only), with `--requirepass` the clients'
/// password `requirepass` (the same), and per node a data directory `nX/` and a log `nX.log`.
public enum ClusterLauncher {
    public static let fileName = "cluster.json"

    /// What `up` starts.
    public struct Plan: Sendable {
        /// `{"protocol": …, "options": …}` as a cluster file holds it.
        public var backend: JSONValue
        public var nodes: Int
        public var directory: String
        /// Node i listens for clients on `portBase + i` and for peers on `portBase + 100 + i`.
        public var portBase: Int
        /// Whether clients must `AUTH` with a password `up` draws and writes to `requirepass`.
        public var requirepass: Bool
        /// The cluster file's `"shardGroup"` (`{"group": "g2", "buckets": 16}`), when the nodes are
        /// to serve as a server group of a sharded store; checked as the file is read.
        public var shardGroup: JSONValue?

        public init(backend: JSONValue, nodes: Int, directory: String, portBase: Int, requirepass: Bool = false, shardGroup: JSONValue? = nil) {
            self.backend = backend
            self.nodes = nodes
            self.directory = directory
            self.portBase = portBase
            self.requirepass = requirepass
            self.shardGroup = shardGroup
        }
    }

    /// A node as `status` finds it.
    public struct NodeReport: Sendable {
        public var member: ClusterConfiguration.Member
        /// Whether the recorded pid is this node's `conlab serve`, running.
        public var running: Bool
        /// `INFO consensus`'s fields, or why there is no answer.
        public var info: Result<[String: String], RESPClient.Failure>
    }

    /// Why a cluster could not be started or found (exit status 1; bad options are `ScenarioError`s).
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static let maximumNodes = 99
    /// How long `up` waits for every node to answer `PING`.
    static let startTimeout: TimeInterval = 20

    // MARK: up

    /// Writes the cluster file and the secret, starts a node process each, waits until every one
    /// answers `PING`, and records the pids. A node that dies on the way stops the others.
    public static func up(_ plan: Plan) throws -> ClusterConfiguration {
        let directory = absolute(plan.directory)
        let file = (directory as NSString).appendingPathComponent(fileName)
        guard !FileManager.default.fileExists(atPath: file) else {
            throw Failure(description: "\(file) exists: a cluster was started there (`conlab cluster down --dir \(plan.directory)` stops it); "
                          + "choose another folder, or remove this one to start afresh")
        }
        // Everything the user chose is checked before anything is written.
        let backendField = JSONField(value: plan.backend, path: "backend", file: "conlab cluster up")
        let backend = try ScenarioFile.servedBackend(backendField)
        if let shardGroup = plan.shardGroup {
            _ = try ClusterFile.shardGroup(JSONField(value: shardGroup, path: "shardGroup", file: "conlab cluster up"), backend: backend, at: backendField)
        }
        let text = try clusterText(plan, directory: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try writeRandomKey(named: "secret", in: directory)
        if plan.requirepass { try writeRandomKey(named: "requirepass", in: directory) }
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        var configuration = try ClusterFile.load(path: file)
        var started: [pid_t] = []
        do {
            for index in configuration.members.indices {
                let member = configuration.members[index]
                try FileManager.default.createDirectory(atPath: member.data!, withIntermediateDirectories: true)
                let pid = try NodeProcesses.spawn(NodeProcesses.currentExecutable(),
                                                  ["serve", "--cluster", file, "--node", member.id.description, "--data", member.data!],
                                                  logFile: logFile(member, in: directory))
                started.append(pid)
                configuration.members[index].pid = pid
            }
            try ClusterFile.write(configuration)
            try awaitPing(configuration, directory: directory)
        } catch {
            _ = NodeProcesses.stop(started, grace: 2, reap: true)
            throw error
        }
        return configuration
    }

    /// The cluster file's text for `plan`; the secret is in the file `secret` beside it.
    static func clusterText(_ plan: Plan, directory: String) throws -> String {
        guard (1...maximumNodes).contains(plan.nodes) else { throw Failure(description: "--nodes must be 1…\(maximumNodes), found \(plan.nodes)") }
        guard plan.portBase >= 1, plan.portBase + 100 + plan.nodes <= 65_535 else {
            throw Failure(description: "--port-base \(plan.portBase): ports \(plan.portBase + 1)…\(plan.portBase + 100 + plan.nodes) must lie in 1…65535")
        }
        let nodes = (1...plan.nodes).map { index in
            JSONValue.object([("id", .string("n\(index)")), ("peer", .string("127.0.0.1:\(plan.portBase + 100 + index)")),
                              ("client", .string("127.0.0.1:\(plan.portBase + index)")),
                              ("data", .string((directory as NSString).appendingPathComponent("n\(index)")))])
        }
        var fields: [(key: String, value: JSONValue)] = [("version", .number(Double(ClusterFile.version))),
                                                         ("cluster", .number(Double(UInt64.random(in: ClusterFile.clusterIDs)))),
                                                         ("secretFile", .string("secret"))]
        if plan.requirepass { fields.append(("requirepassFile", .string("requirepass"))) }
        if let shardGroup = plan.shardGroup { fields.append(("shardGroup", shardGroup)) }
        let document = JSONValue.object(fields + [("backend", plan.backend), ("nodes", .array(nodes))])
        return document.serialized
    }

    /// 32 random bytes as hex in the file `name`, readable by the owner only.
    private static func writeRandomKey(named name: String, in directory: String) throws {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        let path = (directory as NSString).appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes.map { String(format: "%02x", $0) }.joined().utf8),
                                             attributes: [.posixPermissions: 0o600]) else {
            throw Failure(description: "cannot write \(path)")
        }
    }

    /// Waits until every node answers `PING`; a node whose process ended fails the start, with the
    /// end of its log.
    private static func awaitPing(_ configuration: ClusterConfiguration, directory: String) throws {
        let deadline = Date().addingTimeInterval(startTimeout)
        for member in configuration.members {
            while !answersPing(member.client, password: configuration.requirepass) {
                if waitpid(member.pid!, nil, WNOHANG) == member.pid! {
                    throw Failure(description: "\(member.id) (pid \(member.pid!)) exited while starting; its log, \(logFile(member, in: directory)), ends:\n"
                                  + logTail(logFile(member, in: directory)))
                }
                guard Date() < deadline else {
                    throw Failure(description: "\(member.id) did not answer PING at \(member.client) within \(Int(startTimeout)) s; "
                                  + "see \(logFile(member, in: directory))")
                }
                usleep(50_000)
            }
        }
    }

    static func answersPing(_ address: SocketAddress, password: [UInt8]?) -> Bool {
        guard let client = try? RESPClient(connectingTo: address, timeout: .milliseconds(500), password: password) else { return false }
        return (try? client.call("PING")) == .simple("PONG")
    }

    static func logFile(_ member: ClusterConfiguration.Member, in directory: String) -> String {
        (directory as NSString).appendingPathComponent("\(member.id).log")
    }

    private static func logTail(_ path: String, lines: Int = 10) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).map { "  " + $0 }.joined(separator: "\n")
    }

    // MARK: status and down

    /// Each node of the cluster in `directory`: whether its process runs, and what `INFO` says.
    public static func status(directory: String) throws -> [NodeReport] {
        let configuration = try ClusterFile.load(path: clusterFile(in: directory))
        return configuration.members.map { member in
            let running = member.pid.map { NodeProcesses.isNode($0, node: member.id.description, clusterFile: configuration.file) } ?? false
            return NodeReport(member: member, running: running, info: Result { () throws(RESPClient.Failure) in
                try info(at: member.client, password: configuration.requirepass)
            })
        }
    }

    /// `INFO consensus` of the node at `address`, as its fields.
    public static func info(at address: SocketAddress, password: [UInt8]? = nil) throws(RESPClient.Failure) -> [String: String] {
        let reply = try RESPClient(connectingTo: address, timeout: .seconds(1), password: password).call("INFO", "consensus")
        guard let text = reply.text else { throw RESPClient.Failure(description: "INFO answered \(reply)") }
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    /// Stops exactly the processes `up` recorded (each checked to still be that node's `conlab
    /// serve`): SIGTERM, then SIGKILL after `grace`. Returns each node with how it ended; the pids
    /// are removed from the cluster file.
    public static func down(directory: String, grace: TimeInterval) throws -> [(member: ClusterConfiguration.Member, outcome: String)] {
        var configuration = try ClusterFile.load(path: clusterFile(in: directory))
        var pids: [pid_t] = []
        var outcomes: [String] = []
        for member in configuration.members {
            guard let pid = member.pid else { outcomes.append("no pid recorded"); continue }
            if NodeProcesses.isNode(pid, node: member.id.description, clusterFile: configuration.file) {
                pids.append(pid)
                outcomes.append("stopped (SIGTERM)")
            } else {
                outcomes.append("not running")
            }
        }
        let killed = NodeProcesses.stop(pids, grace: grace, reap: false)
        let members = configuration.members
        for index in configuration.members.indices { configuration.members[index].pid = nil }
        try ClusterFile.write(configuration)
        return zip(members, outcomes).map { member, outcome in
            (member, member.pid.map { killed.contains($0) } == true ? "killed (SIGKILL after \(Int(grace)) s)" : outcome)
        }
    }

    private static func clusterFile(in directory: String) throws -> String {
        let file = (absolute(directory) as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: file) else { throw Failure(description: "no cluster in \(directory): \(file) does not exist") }
        return file
    }

    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(path)
        return (full as NSString).standardizingPath
    }
}
