import ConsensusCore
import Foundation
import Glibc
import Runtime
import Server
import Simulator

/// Redis with Sentinel as an external backend: on each of `nodes` nodes a redis-server (n1 the
/// primary, the others its replicas) and a redis-sentinel, on free loopback ports, each node with
/// its own folder (configuration files, which Sentinel rewrites, and the append-only file).
///
/// Settings: `appendonly yes` with `appendfsync everysec` (Redis's usual durability: a crash
/// loses up to a second of acknowledged writes even without failover), no RDB snapshots, a full
/// resynchronisation started at once (`repl-diskless-sync-delay 0`; the default 5 s only waits
/// for more replicas to share it, and would outlast a lab run's quiescence); the
/// Sentinels monitor the primary as `conlab` with a quorum of a majority, `down-after-milliseconds
/// 1000` and `failover-timeout 2000` (Redis defaults: 30 s and 3 min, far beyond a lab run), so
/// a primary that stops answering is replaced in about 2–4 s. A crash or a pause hits the
/// redis-server of a node; its Sentinel stays up (the failure detector is not what a scenario
/// faults), though a partition cuts it off with its node.
///
/// Every redis-server and Sentinel announces a port of a `PeerProxy` in front of it
/// (`replica-announce-port`, `sentinel announce-port`, the monitored primary's address), so
/// replication links, Sentinels' links and clients all go through the proxy and partitions,
/// one-way cuts and latency apply between nodes. The proxy learns a connection's node from
/// Redis's own handshakes (`sender`). The lab's own reads (roles, final data) go to the real ports.
/// Under `--network netns` each node's pair lives in a namespace of its own (`homes`), announces
/// its own address, and the kernel cuts the links between nodes (`NamespaceNetwork`).
final class RedisSentinelGroup: ExternalMembers {
    static let master = "conlab"
    static let downAfter = 1_000
    static let failoverTimeout = 2_000
    /// How long the group may take to serve, replicas linked and Sentinels aware of each other.
    static let startTimeout: TimeInterval = 30
    static let restartTimeout: TimeInterval = 20

    let directory: String
    private let server: String
    /// Each node's redis-server and Sentinel addresses (fixed; client threads read them).
    private let servers: [SocketAddress]
    private let sentinels: [SocketAddress]
    /// In front of every redis-server and Sentinel on loopback; nil when the nodes live in network
    /// namespaces (the kernel cuts their links, `NamespaceNetwork`).
    private let proxy: PeerProxy?
    /// Where each node runs.
    private let homes: [NodeHome]
    /// The address each node's redis-server, then each Sentinel, announces: the proxy's in front
    /// of it, or its own.
    private var announcedServers: [SocketAddress] { proxy.map { Array($0.addresses[..<servers.count]) } ?? servers }
    private var announcedSentinels: [SocketAddress] { proxy.map { Array($0.addresses[servers.count...]) } ?? sentinels }
    private(set) var pids: [pid_t?]
    private var sentinelPids: [pid_t?]

    init(nodes: Int, directory: String, homes: [NodeHome]?) throws {
        server = try ExternalCluster.executable("redis-server", package: "redis-server")
        let sentinel = try ExternalCluster.executable("redis-sentinel", package: "redis-sentinel")
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let ports = try LoopbackPorts.free(4 * nodes)
        let homes = homes ?? Array(repeating: .loopback, count: nodes)
        self.homes = homes
        servers = (0..<nodes).map { homes[$0].address(port: ports[$0]) }
        sentinels = (0..<nodes).map { homes[$0].address(port: ports[nodes + $0]) }
        if homes.allSatisfy({ $0.namespace == nil }) {
            let proxied = Array(ports[(2 * nodes)...])
            proxy = try PeerProxy(ports: proxied, targets: servers + sentinels, nodes: Array(0..<nodes) + Array(0..<nodes),
                                  identify: { Self.sender(head: $0, serverPorts: Array(proxied[..<nodes])) })
        } else {
            proxy = nil
        }
        pids = Array(repeating: nil, count: nodes)
        sentinelPids = Array(repeating: nil, count: nodes)
        do {
            for node in 0..<nodes {
                try FileManager.default.createDirectory(atPath: folder(node), withIntermediateDirectories: true)
                try write(serverConfiguration(node), to: "redis.conf", of: node)
                try write(sentinelConfiguration(node), to: "sentinel.conf", of: node)
            }
            let deadline = Date().addingTimeInterval(Self.startTimeout)
            for node in 0..<nodes { pids[node] = try spawnServer(node) }
            for node in 0..<nodes { try waitFor("n\(node + 1) serving, replication linked", deadline: deadline) { self.linked(node) } }
            for node in 0..<nodes {
                sentinelPids[node] = try homes[node].spawn(sentinel, [configuration("sentinel.conf", of: node)], logFile: folder(node) + ".sentinel.log")
            }
            for node in 0..<nodes { try waitFor("sentinel of n\(node + 1) aware of every replica and Sentinel", deadline: deadline) { self.aware(node) } }
        } catch {
            stop(keepingFiles: true)
            throw error
        }
    }

    private func folder(_ node: Int) -> String { (directory as NSString).appendingPathComponent("n\(node + 1)") }
    private func configuration(_ name: String, of node: Int) -> String { (folder(node) as NSString).appendingPathComponent(name) }

    private func write(_ lines: [String], to name: String, of node: Int) throws {
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: configuration(name, of: node)))
    }

    func serverConfiguration(_ node: Int) -> [String] {
        ["port \(servers[node].port)", "bind \(servers[node].host)", "dir \(folder(node))", "appendonly yes", "appendfsync everysec", "save \"\"",
         "repl-diskless-sync-delay 0", "replica-announce-ip \(announcedServers[node].host)", "replica-announce-port \(announcedServers[node].port)",
         "daemonize no"] + (node == 0 ? [] : ["replicaof \(announcedServers[0].host) \(announcedServers[0].port)"]) + unprotected(node)
    }

    /// A Sentinel's id (`myid`, 40 hex digits) starts with its node's number, which its client
    /// name (`sentinel-<first 8>-cmd`) shows the proxy.
    static func sentinelID(_ node: Int) -> String { String(node + 1, radix: 16).leftPadded(to: 8) + String(repeating: "0", count: 32) }

    /// The node that opened a connection, from what it sent first: a replica's handshake names its
    /// announced port (`REPLCONF listening-port`, after a `PING`), a Sentinel its id in `CLIENT
    /// SETNAME sentinel-<id>-cmd`, our clients their node in `CLIENT SETNAME conlab-nI`.
    static func sender(head: [UInt8], serverPorts: [UInt16]) -> PeerProxy.Sender {
        let words = String(decoding: head, as: UTF8.self).split(separator: "\r\n").filter { !$0.hasPrefix("*") && !$0.hasPrefix("$") }
        for (index, word) in words.enumerated() {
            let next = index + 1 < words.count ? String(words[index + 1]) : nil
            if word.lowercased() == "listening-port", let port = next.flatMap(UInt16.init) {
                return serverPorts.firstIndex(of: port).map { .node($0) } ?? .anonymous
            }
            guard word.lowercased() == "setname", let name = next else { continue }
            if name.hasPrefix("sentinel-"), let number = Int(name.dropFirst("sentinel-".count).prefix(8), radix: 16), number >= 1 {
                return .node(number - 1)
            }
            if name.hasPrefix("conlab-n"), let number = Int(name.dropFirst("conlab-n".count)), number >= 1 { return .node(number - 1) }
            return .anonymous
        }
        return .undecided
    }

    func sentinelConfiguration(_ node: Int) -> [String] {
        ["port \(sentinels[node].port)", "bind \(sentinels[node].host)", "dir \(folder(node))", "daemonize no",
         "sentinel myid \(Self.sentinelID(node))", "sentinel announce-ip \(announcedSentinels[node].host)",
         "sentinel announce-port \(announcedSentinels[node].port)",
         "sentinel monitor \(Self.master) \(announcedServers[0].host) \(announcedServers[0].port) \(servers.count / 2 + 1)",
         "sentinel down-after-milliseconds \(Self.master) \(Self.downAfter)",
         "sentinel failover-timeout \(Self.master) \(Self.failoverTimeout)", "sentinel parallel-syncs \(Self.master) 1"] + unprotected(node)
    }

    /// Redis without a password answers only loopback connections (protected mode); a node in a
    /// namespace is reached over the run's bridge, which nothing outside the machine reaches.
    private func unprotected(_ node: Int) -> [String] { homes[node].namespace == nil ? [] : ["protected-mode no"] }

    private func spawnServer(_ node: Int) throws -> pid_t {
        try homes[node].spawn(server, [configuration("redis.conf", of: node)], logFile: folder(node) + ".log")
    }

    /// Waits until `ready`, or throws naming `what` with the end of the logs.
    private func waitFor(_ what: String, deadline: Date, _ ready: () -> Bool) throws {
        while !ready() {
            for (node, pid) in pids.enumerated() {
                if let pid, waitpid(pid, nil, WNOHANG) == pid {
                    pids[node] = nil
                    throw ProcessCluster.Failure(description: "redis-server of n\(node + 1) exited while starting; see \(folder(node)).log")
                }
            }
            guard Date() < deadline else {
                throw ProcessCluster.Failure(description: "Redis with Sentinel not ready within \(Int(Self.startTimeout)) s: waiting for \(what); logs in \(directory)")
            }
            usleep(100_000)
        }
    }

    private func call(_ address: SocketAddress, _ arguments: [String]) -> RESPClient.Reply? {
        guard let client = try? RESPClient(connectingTo: address, timeout: .milliseconds(500)), (try? client.send([arguments])) != nil else { return nil }
        return try? client.receive()
    }

    /// The primary answers; a replica has its link to the primary up.
    private func linked(_ node: Int) -> Bool {
        guard let info = call(servers[node], ["INFO", "replication"])?.text else { return false }
        return node == 0 ? info.contains("role:master") : info.contains("master_link_status:up")
    }

    /// The node's Sentinel knows every replica and every other Sentinel.
    private func aware(_ node: Int) -> Bool {
        guard let fields = sentinelMaster(node) else { return false }
        return fields["num-slaves"] == String(servers.count - 1) && fields["num-other-sentinels"] == String(sentinels.count - 1)
    }

    /// `SENTINEL MASTER conlab` as field → value.
    private func sentinelMaster(_ node: Int) -> [String: String]? {
        guard case .array(let items?)? = call(sentinels[node], ["SENTINEL", "MASTER", Self.master]) else { return nil }
        let texts = items.compactMap(\.text)
        return Dictionary(stride(from: 0, to: texts.count - 1, by: 2).map { (texts[$0], texts[$0 + 1]) }, uniquingKeysWith: { $1 })
    }

    func restart(_ node: Int) throws -> pid_t {
        precondition(pids[node] == nil, "n\(node + 1) is running")
        let pid = try spawnServer(node)
        pids[node] = pid
        let deadline = Date().addingTimeInterval(Self.restartTimeout)
        // Any answer will do (`-LOADING` while it reads its append-only file).
        while call(servers[node], ["PING"]) == nil {
            if waitpid(pid, nil, WNOHANG) == pid {
                pids[node] = nil
                throw ProcessCluster.Refused(node: node, reason: "redis-server exited while starting; see \(folder(node)).log")
            }
            guard Date() < deadline else { throw ProcessCluster.Failure(description: "redis-server of n\(node + 1) did not answer within \(Int(Self.restartTimeout)) s") }
            usleep(20_000)
        }
        return pid
    }

    func setLinks(reachable: [[Bool]], latency: [[LatencyDistribution]]) { proxy?.setLinks(reachable: reachable, latency: latency) }

    func kill(_ node: Int) {
        guard let pid = pids[node] else { return }
        Glibc.kill(pid, SIGKILL)
        _ = waitpid(pid, nil, 0)
        pids[node] = nil
    }

    func connection(home node: Int, cheapReads: Bool, timeout: TimeSpan) -> any ExternalConnection {
        // Its own node's Sentinel first, as a client on that node would ask; through the proxy,
        // named as a client of its node.
        let sentinels = announcedSentinels
        return SentinelConnection(sentinels: Array(sentinels[node...] + sentinels[..<node]), own: announcedServers[node], master: Self.master,
                                  name: "conlab-n\(node + 1)", readsFromOwnNode: cheapReads, timeout: timeout)
    }

    /// The node's role as it says itself (`ROLE`); a primary's term is the configuration epoch of
    /// the Sentinels' majority view when that view names it, 0 otherwise (an old primary that came
    /// back and is not a replica yet, or a new one most Sentinels have not learned of): so the
    /// run's leader is the primary the Sentinels agree on.
    func role(of node: Int) -> (role: Role, term: UInt64, name: String)? {
        guard case .array(let items?)? = call(servers[node], ["ROLE"]), let name = items.first?.text else { return nil }
        guard name == "master" else { return (.follower, 0, name) }
        guard let view = sentinelView(), view.port == String(announcedServers[node].port) else { return (.leader, 0, name) }
        return (.leader, view.epoch, name)
    }

    /// The primary a majority of the Sentinels name, with the highest configuration epoch among
    /// them; asked at most once per `viewLifetime` (a poll asks it for every node).
    private func sentinelView() -> (port: String, epoch: UInt64)? {
        if let cached = view, MonotonicClock.now() < cached.time + Self.viewLifetime { return cached.value }
        let answers = sentinels.indices.compactMap { sentinelMaster($0) }.compactMap { fields in
            fields["port"].map { (port: $0, epoch: fields["config-epoch"].flatMap(UInt64.init) ?? 0) }
        }
        let counts = Dictionary(grouping: answers, by: \.port)
        let agreed = counts.first { $0.value.count > sentinels.count / 2 }.map { (port: $0.key, epoch: $0.value.map(\.epoch).max() ?? 0) }
        view = (MonotonicClock.now(), agreed)
        return agreed
    }

    private var view: (time: Instant, value: (port: String, epoch: UInt64)?)?
    static let viewLifetime = TimeSpan.milliseconds(50)

    /// The node's own data: every key (`KEYS *`, a run's few keys) and its value.
    func data(of node: Int) -> [String: String]? {
        guard let client = try? RESPClient(connectingTo: servers[node], timeout: .seconds(2)),
              case .array(let keys?)? = try? client.call("KEYS", "*") else { return nil }
        let names = keys.compactMap(\.text)
        guard (try? client.send(names.map { ["GET", $0] })) != nil else { return nil }
        var data: [String: String] = [:]
        for name in names {
            guard let reply = try? client.receive() else { return nil }
            if let value = reply.text { data[name] = value }
        }
        return data
    }

    /// Kills every process it started (the run is over: nothing needs a clean stop).
    func stop(keepingFiles: Bool) {
        for pid in (pids + sentinelPids).compactMap({ $0 }) {
            Glibc.kill(pid, SIGCONT)
            Glibc.kill(pid, SIGKILL)
            _ = waitpid(pid, nil, 0)
        }
        pids = pids.map { _ in nil }
        sentinelPids = sentinelPids.map { _ in nil }
        proxy?.stop()
        if !keepingFiles { try? FileManager.default.removeItem(atPath: directory) }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
