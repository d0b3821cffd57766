import ConsensusCore
import Foundation
import Glibc
import Runtime
import Server

/// A local etcd cluster: `members` etcd processes on loopback ports (or each in a network
/// namespace of its own, `NodeHome`), each with a data directory and
/// a log in one folder, started by pid and stopped by pid. For tests and for measuring etcd
/// beside our clusters with the same client; nothing of ours runs inside it.
public final class EtcdCluster {
    public struct Member: Hashable, Sendable {
        /// `e1`, `e2`, …
        public var name: String
        public var client: SocketAddress
        public var peer: SocketAddress
        /// The peer address the others are told to use: `peer`, or a proxy in front of it.
        public var advertisedPeer: SocketAddress
        public var data: String
        public var log: String
        /// Where the member runs: loopback, or a network namespace of its own.
        public var home: NodeHome
        /// The running process; `nil` once stopped.
        public var pid: pid_t?
    }

    /// Why a cluster could not be started.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let directory: String
    public private(set) var members: [Member]
    private var executable = ""
    /// The token of this cluster's first start; a member restarted on its data ignores it.
    private var token = ""
    /// Flags every member gets after its addresses (timing: `--election-timeout`, …).
    private let tuning: [String]

    /// The members' client addresses as a `conlab load` target.
    public var target: LoadTarget { LoadTarget(system: .etcd, addresses: members.map(\.client)) }

    /// The `etcd` on `PATH` (Debian's `etcd-server` package installs /usr/bin/etcd), or `nil`.
    public static func executable() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/etcd" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Starts a new cluster of `members` in `directory` (created), on free loopback ports unless
    /// `ports` gives 2 × members of them (clients first, then peers), and waits up to `timeout`
    /// for every member to answer a linearizable range, which needs an elected leader. A member
    /// that exits, or a cluster not ready in time, stops every member started and throws with the
    /// end of the log concerned. `advertisedPeers` (one per member) are the peer addresses the
    /// members tell each other, when a proxy in front of their peer ports carries their traffic.
    /// `tuning` are further flags for every member (timing: `--election-timeout`, …). `homes` puts
    /// each member somewhere else than loopback (a network namespace of its own).
    public static func start(executable: String, members count: Int, directory: String, ports: [UInt16]? = nil,
                             advertisedPeers: [SocketAddress]? = nil, tuning: [String] = [], homes: [NodeHome]? = nil,
                             timeout: TimeInterval = 30) throws(Failure) -> EtcdCluster {
        precondition(count >= 1 && (ports == nil || ports!.count == 2 * count), "ports: 2 per member")
        precondition(advertisedPeers == nil || advertisedPeers!.count == count, "advertisedPeers: 1 per member")
        precondition(homes == nil || homes!.count == count, "homes: 1 per member")
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot create \(directory): \(error.localizedDescription)")
        }
        var chosen = ports ?? []
        if ports == nil {
            do throws(SystemError) { chosen = try LoopbackPorts.free(2 * count) } catch { throw Failure(description: error.description) }
        }
        let cluster = EtcdCluster(directory: directory, tuning: tuning, members: (0..<count).map { index in
            let name = "e\(index + 1)", home = homes?[index] ?? .loopback
            let peer = home.address(port: chosen[count + index])
            return Member(name: name, client: home.address(port: chosen[index]), peer: peer, advertisedPeer: advertisedPeers?[index] ?? peer,
                          data: "\(directory)/\(name)", log: "\(directory)/\(name).log", home: home, pid: nil)
        })
        do throws(Failure) {
            try cluster.spawnAll(executable)
            try cluster.awaitReady(timeout: timeout)
        } catch {
            cluster.stop()
            throw error
        }
        return cluster
    }

    private init(directory: String, tuning: [String], members: [Member]) {
        self.directory = directory
        self.tuning = tuning
        self.members = members
    }

    /// The flags each member gets: its name and data directory, where it listens and what it
    /// advertises (the same loopback URLs), and the whole initial cluster under a token of this
    /// start alone, so members of another cluster on the machine never join it.
    func arguments(of member: Member, token: String) -> [String] {
        let initial = members.map { "\($0.name)=http://\($0.advertisedPeer)" }.joined(separator: ",")
        return ["--name", member.name, "--data-dir", member.data,
                "--listen-client-urls", "http://\(member.client)", "--advertise-client-urls", "http://\(member.client)",
                "--listen-peer-urls", "http://\(member.peer)", "--initial-advertise-peer-urls", "http://\(member.advertisedPeer)",
                "--initial-cluster", initial, "--initial-cluster-state", "new", "--initial-cluster-token", token] + tuning
    }

    private func spawnAll(_ executable: String) throws(Failure) {
        self.executable = executable
        token = "conlab-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        for index in members.indices { try spawn(index) }
    }

    private func spawn(_ index: Int) throws(Failure) {
        do throws(SystemError) {
            members[index].pid = try members[index].home.spawn(executable, arguments(of: members[index], token: token), logFile: members[index].log)
        } catch {
            throw Failure(description: error.description)
        }
    }

    /// A crash of member `index`: SIGKILL, and the process reaped.
    package func kill(_ index: Int) {
        guard let pid = members[index].pid else { return }
        Glibc.kill(pid, SIGKILL)
        _ = waitpid(pid, nil, 0)
        members[index].pid = nil
    }

    /// Starts stopped member `index` again on its data directory and waits up to `timeout` until
    /// it answers a serializable range (from its own state: it needs no leader for that).
    package func restart(_ index: Int, timeout: TimeInterval) throws(Failure) -> pid_t {
        precondition(members[index].pid == nil, "\(members[index].name) is running")
        try spawn(index)
        try awaitServing(index, EtcdGateway.range(key: "conlab-ready", serializable: true), deadline: Date().addingTimeInterval(timeout))
        return members[index].pid!
    }

    private func awaitReady(timeout: TimeInterval) throws(Failure) {
        let deadline = Date().addingTimeInterval(timeout)
        for index in members.indices { try awaitServing(index, EtcdGateway.range(key: "conlab-ready", serializable: false), deadline: deadline) }
    }

    /// Waits until member `index` answers `probe` with 200; throws when it exits or `deadline` passes.
    private func awaitServing(_ index: Int, _ probe: EtcdGateway.Request, deadline: Date) throws(Failure) {
        let member = members[index]
        while true {
            if let http = try? HTTPConnection(address: member.client, timeout: .milliseconds(500)),
               let response = try? http.post(probe.path, json: probe.body), response.status == 200 {
                return
            }
            if let pid = member.pid, waitpid(pid, nil, WNOHANG) == pid {
                members[index].pid = nil
                throw Failure(description: "etcd \(member.name) (pid \(pid)) exited while starting; \(member.log) ends:\n\(Self.tail(member.log))")
            }
            guard Date() < deadline else {
                throw Failure(description: "etcd \(member.name) at \(member.client) did not serve a range in time; "
                              + "\(member.log) ends:\n\(Self.tail(member.log))")
            }
            usleep(100_000)
        }
    }

    /// Stops the members one at a time: SIGTERM, SIGKILL after `grace`, and waits for it to end.
    /// One at a time because a leader that gets SIGTERM hands its leadership to a follower first:
    /// with every follower stopping too, that hand-over waits out its timeout (7 s with etcd
    /// 3.4's defaults); with the followers up, it takes milliseconds. `removingFiles` deletes the
    /// folder (keep it to read the logs of a failure).
    public func stop(grace: TimeInterval = 10, removingFiles: Bool = false) {
        for index in members.indices {
            // A paused member would take SIGTERM only once continued.
            if let pid = members[index].pid { Glibc.kill(pid, SIGCONT); _ = NodeProcesses.stop([pid], grace: grace, reap: true) }
            members[index].pid = nil
        }
        if removingFiles { try? FileManager.default.removeItem(atPath: directory) }
    }

    private static func tail(_ path: String, lines: Int = 8) -> String {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(lines).map { "  " + $0 }.joined(separator: "\n")
    }
}
