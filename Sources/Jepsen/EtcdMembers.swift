import ConsensusCore
import Glibc
import Lab
import Load
import Runtime
import Server
import Simulator

/// etcd as an external backend: `nodes` members of Debian's etcd 3.4 on free loopback ports, each
/// with its own data directory, started by `Load`'s `EtcdCluster` (the launcher `conlab load`'s
/// tests use) with the timing its options give (etcd's own by default: heartbeat 100 ms,
/// election timeout 1 s). Their peer
/// traffic goes through a `PeerProxy` (each member advertises the proxy's address), so partitions,
/// one-way cuts and link latency apply to it; clients reach their member directly, as ours do.
/// Under `--network netns` each member lives in a namespace of its own (`homes`), talks to the
/// others directly, and the kernel cuts their links (`NamespaceNetwork`).
final class EtcdMembers: ExternalMembers {
    private let cluster: EtcdCluster
    /// In front of the peer ports on loopback; nil when the members live in network namespaces.
    private let proxy: PeerProxy?
    /// The members' client addresses, fixed at the start (client threads read them).
    private let addresses: [SocketAddress]
    /// How long a restarted member may take to serve.
    static let restartTimeout: Double = 20

    init(nodes: Int, directory: String, options: EtcdOptions, homes: [NodeHome]?) throws {
        let executable = try ExternalCluster.executable("etcd", package: "etcd-server")
        let ports = try LoopbackPorts.free(3 * nodes)
        // In network namespaces the kernel cuts the members' links: they talk directly.
        if homes == nil {
            let proxied = Array(ports[(2 * nodes)...])
            proxy = try PeerProxy(ports: proxied, targets: ports[nodes..<(2 * nodes)].map { .loopback(port: $0) },
                                  identify: { Self.sender(head: $0, proxy: proxied) })
        } else {
            proxy = nil
        }
        do {
            cluster = try EtcdCluster.start(executable: executable, members: nodes, directory: directory, ports: Array(ports[..<(2 * nodes)]),
                                            advertisedPeers: proxy?.addresses, tuning: options.flags, homes: homes)
        } catch {
            proxy?.stop()
            throw error
        }
        addresses = cluster.members.map(\.client)
    }

    /// The member that sent an HTTP request, from the `X-PeerURLs` header etcd puts in every
    /// raft request (its advertised peer URLs, which are its proxy address). A request without it
    /// (a version or health probe) names nobody yet: Go keeps the connection alive and may send a
    /// member's raft requests over it later. A header naming no proxy port is someone else's.
    static func sender(head: [UInt8], proxy ports: [UInt16]) -> PeerProxy.Sender {
        let text = String(decoding: head, as: UTF8.self)
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true).dropLast(text.hasSuffix("\r\n") ? 0 : 1) {
            guard line.lowercased().hasPrefix("x-peerurls:") else { continue }
            let urls = line.dropFirst("x-peerurls:".count).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            return ports.firstIndex { port in urls.contains("http://127.0.0.1:\(port)") }.map { .node($0) } ?? .anonymous
        }
        return .undecided
    }

    func setLinks(reachable: [[Bool]], latency: [[LatencyDistribution]]) { proxy?.setLinks(reachable: reachable, latency: latency) }

    var pids: [pid_t?] { cluster.members.map(\.pid) }

    func restart(_ node: Int) throws -> pid_t {
        do {
            return try cluster.restart(node, timeout: Self.restartTimeout)
        } catch {
            throw ProcessCluster.Refused(node: node, reason: error.description)
        }
    }

    func kill(_ node: Int) { cluster.kill(node) }

    func connection(home node: Int, cheapReads: Bool, timeout: TimeSpan) -> any ExternalConnection {
        EtcdConnection(address: addresses[node], timeout: timeout, serializable: cheapReads)
    }

    /// What the member says of itself (`/v3/maintenance/status`): leader or follower, and its term.
    func role(of node: Int) -> (role: Role, term: UInt64, name: String)? {
        guard let body = post(node, EtcdGateway.status()), let status = try? EtcdGateway.status(body) else { return nil }
        return status.isLeader ? (.leader, status.term, "leader") : (.follower, status.term, "follower")
    }

    /// The member's own copy: a serializable range over every key, answered from its state.
    func data(of node: Int) -> [String: String]? {
        post(node, EtcdGateway.rangeAll()).flatMap { try? EtcdGateway.entries($0) }
    }

    /// The body of a 200 answer from member `node`, nil for anything else.
    private func post(_ node: Int, _ request: EtcdGateway.Request) -> [UInt8]? {
        guard let http = try? HTTPConnection(address: addresses[node], timeout: .milliseconds(500)),
              let response = try? http.post(request.path, json: request.body), response.status == 200 else { return nil }
        return response.body
    }

    /// etcd is killed outright: the run is over and nothing needs a clean stop.
    func stop(keepingFiles: Bool) {
        cluster.stop(grace: 0, removingFiles: !keepingFiles)
        proxy?.stop()
    }
}

/// A client of etcd through its v3 HTTP/JSON gateway, pinned to one member: `Load`'s
/// `EtcdTargetConnection` (put, range, deleterange, a txn comparing the value for compare-and-set,
/// append as a range then a txn guarded by the key's mod revision, retried on a lost race),
/// connected when first needed and again after a failure.
final class EtcdConnection: ExternalConnection {
    private let address: SocketAddress
    private let timeout: TimeSpan
    private let serializable: Bool
    private var target: EtcdTargetConnection?

    init(address: SocketAddress, timeout: TimeSpan, serializable: Bool) {
        self.address = address
        self.timeout = timeout
        self.serializable = serializable
    }

    func perform(_ command: Command) -> ExternalAnswer {
        if target == nil {
            do { target = try EtcdTargetConnection(address: address, timeout: timeout, serializable: serializable) } catch {
                return .notApplied(error.description)
            }
        }
        let target = target!, wasConnected = target.isConnected
        switch target.perform(Self.operation(command)) {
        case .ok(.done): return .ok(.done)
        case .ok(.value(let value)): return .ok(.value(value))
        case .ok(.casMismatch): return .ok(.casMismatch(current: nil))
        case .failed(let kind, let message):
            // Refused before anything was sent: no connection could be made. Append's tries all
            // lost their race: its last guarded write, like every one before it, changed nothing.
            if (kind == "connection" && !wasConnected && message.hasPrefix("connect to ")) || kind == "append contention" {
                return .notApplied(message)
            }
            return .unknown("\(kind): \(message)")
        }
    }

    static func operation(_ command: Command) -> Operation {
        switch command {
        case .get(let key): Operation(kind: .get, key: key)
        case .put(let key, let value): Operation(kind: .put, key: key, value: value)
        case .delete(let key): Operation(kind: .del, key: key)
        case .append(let key, let value): Operation(kind: .append, key: key, value: value)
        case .cas(let key, let expected, let value): Operation(kind: .cas, key: key, value: value, expected: expected)
        }
    }
}

extension EtcdOptions {
    /// The member flags that set these options.
    var flags: [String] {
        ["--heartbeat-interval", "\(heartbeat.microseconds / 1_000)", "--election-timeout", "\(electionTimeout.microseconds / 1_000)",
         "--pre-vote=\(preVote)"]
    }
}
