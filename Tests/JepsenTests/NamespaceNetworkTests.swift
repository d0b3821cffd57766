import Foundation
import Glibc
@testable import Jepsen
import Server
import Testing

/// `--network netns`: each node in a network namespace of its own, links cut by iptables in the
/// kernel. Needs root and Debian's iproute2 and iptables (`.ci/run` installs them); without them,
/// or where the kernel refuses namespaces, the tests say loudly that they were skipped. About
/// 15 s in all.
@Suite(.serialized) struct NamespaceNetworkTests {
    /// A network of `nodes` namespaces, or nil (said loudly) where this machine cannot build one.
    static func network(_ nodes: Int) -> NamespaceNetwork? {
        if let why = RealNetwork.namespaces.unavailable {
            print("*** SKIPPED NamespaceNetworkTests: \(why) ***")
            return nil
        }
        do {
            return try NamespaceNetwork(nodes: nodes)
        } catch {
            print("*** SKIPPED NamespaceNetworkTests: this machine cannot build network namespaces: \(error) ***")
            return nil
        }
    }

    static let python = "/usr/bin/python3"

    /// Whether a TCP connection from inside `from`'s namespace to `to` completes within half a second.
    static func connects(from home: NodeHome, to address: String, port: UInt16) throws -> Bool {
        let script = "import socket,sys\ntry:\n socket.create_connection(('\(address)', \(port)), timeout=0.5)\nexcept OSError:\n sys.exit(1)"
        let pid = try home.spawn(python, ["-c", script], logFile: "/dev/null")
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return status == 0
    }

    /// Connections from n1 and n3 to a listener in n2's namespace: open, then n1's cut by the
    /// kernel while n3's stays open, then open again at the heal; at the teardown the namespaces
    /// and the bridge are gone.
    @Test func theKernelCutsAndHealsTheLinksBetweenNamespaces() throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            print("*** SKIPPED NamespaceNetworkTests: no \(Self.python); install with: apt-get install -y python3 ***")
            return
        }
        guard let network = Self.network(3) else { return }
        defer { network.tearDown() }
        let listener = "import socket\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            + "s.bind(('\(network.homes[1].host)', 7000))\ns.listen(16)\nwhile True:\n c, _ = s.accept()\n c.close()"
        let server = try network.homes[1].spawn(Self.python, ["-c", listener], logFile: "/dev/null")
        defer { kill(server, SIGKILL); waitpid(server, nil, 0) }
        let target = network.homes[1].host
        var ready = false
        for _ in 0..<50 where !ready {
            ready = try Self.connects(from: network.homes[0], to: target, port: 7000)
            if !ready { usleep(100_000) }
        }
        #expect(ready, "n1 reaches n2 before any cut")
        var reachable = Array(repeating: Array(repeating: true, count: 3), count: 3)
        reachable[0][1] = false
        try network.cut(reachable: reachable)
        #expect(try !Self.connects(from: network.homes[0], to: target, port: 7000), "n2 drops what n1 sends")
        #expect(try Self.connects(from: network.homes[2], to: target, port: 7000), "n3's link to n2 is not cut")
        reachable[0][1] = true
        try network.cut(reachable: reachable)
        #expect(try Self.connects(from: network.homes[0], to: target, port: 7000), "healed")
        let names = network.homes.compactMap(\.namespace), bridge = network.bridge
        kill(server, SIGKILL)
        network.tearDown()
        for name in names { #expect(!FileManager.default.fileExists(atPath: "/run/netns/\(name)"), "\(name) removed") }
        #expect(!FileManager.default.fileExists(atPath: "/sys/class/net/\(bridge)"), "\(bridge) removed")
    }

    /// A veth pair outlives its namespace's name until the kernel frees the namespace (a minute
    /// or two after its processes were killed): the next network takes another subnet instead of
    /// failing on the name ("File exists", seen in CI when an etcd run followed a Raft run).
    @Test func aLingeringVethPairIsLeftAlone() throws {
        guard let probe = Self.network(1) else { return }
        let subnet = probe.subnet
        probe.tearDown()
        let lingering = "conlab-v\(subnet)n1"
        let pid = try NodeProcesses.spawn(NodeHome.ip, ["link", "add", lingering, "type", "veth", "peer", "name", "conlab-t\(subnet)"], logFile: "/dev/null")
        waitpid(pid, nil, 0)
        defer {
            let pid = try? NodeProcesses.spawn(NodeHome.ip, ["link", "del", lingering], logFile: "/dev/null")
            if let pid { waitpid(pid, nil, 0) }
        }
        #expect(FileManager.default.fileExists(atPath: "/sys/class/net/\(lingering)"))
        let next = try NamespaceNetwork(nodes: 1)
        defer { next.tearDown() }
        #expect(next.subnet != subnet, "subnet \(subnet) still has \(lingering)")
    }

    /// The leader cut off by the kernel (our nodes are told no cut of their own): Raft, and etcd
    /// when installed, elect a leader in the majority, serve nothing on the minority's side, and
    /// keep their promises.
    @Test func aLeaderIsolatedByTheKernelKeepsRaftsPromises() throws {
        guard let conlab = RealScenarioTests.conlab(), let probe = Self.network(1) else { return }
        probe.tearDown()
        let etcd = ExternalBackendRealTests.installed(.etcd)
        let backends = #"["raft""# + (etcd ? #", {"external": "etcd", "options": {"heartbeat": "30ms", "electionTimeout": "150ms", "prevote": true}}"# : "") + "]"
        let scenario = """
        {"version": 1, "name": "netns-leader-isolated", "nodes": 3, "duration": "4s", "quiescence": "1500ms", "backends": \(backends),
         "workload": {"clientsPerNode": 2, "mode": "open", "rate": 40, "keys": 4, "mix": {"get": 50, "append": 50}, "timeout": "800ms"},
         "faults": [{"at": "1s", "partition": {"isolate": "leader"}}, {"at": "3s", "heal": true}]}
        """
        let (result, folder) = try RealScenarioTests.run(scenario, name: "netns-leader-isolated", conlab: conlab, network: .namespaces)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let rows = try RealScenarioTests.summary(folder)
        #expect(rows.count == result.records.count && rows.count == (etcd ? 2 : 1))
        for (id, row) in rows {
            let replay = "replay: conlab run netns-leader-isolated.json --real --network netns --backend \(row["protocol"]!) --seed 1"
            #expect(row["linearizable"] == "true" && row["lost_writes"] == "0" && row["divergent_keys"] == "0", "\(id): \(replay)")
            #expect(Double(row["availability_majority_side"]!)! > 0, "\(id): the majority elects a leader and serves; \(replay)")
            #expect(Double(row["availability_minority_side"]!)! == 0, "\(id): the isolated old leader serves nothing; \(replay)")
        }
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
        #expect(!leftovers.contains { $0.hasPrefix("conlab-\(probe.subnet)-") }, "every namespace of the runs removed")
    }
}
