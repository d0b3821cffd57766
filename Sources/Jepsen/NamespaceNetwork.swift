import Foundation
import Glibc
import Server

/// The network of one real run under `--network netns`: each node in a network namespace of its
/// own (`conlab-X-nI`) with one interface, the inside end of a veth pair whose outside end hangs
/// on a bridge (`conlab-brX`), addresses 10.213.X.I/24 and the bridge 10.213.X.254. The runner,
/// in the machine's own namespace, reaches every node over the bridge (its clients, its admin
/// connections); nothing leaves the machine: the bridge has no other port and nothing routes
/// beyond it.
///
/// Cuts are made as Jepsen makes them: `iptables` in the receiving node's namespace drops every
/// packet from a node it does not hear (`-A INPUT -s <sender> -j DROP`), so a cut from i to j
/// stalls what i sends j — TCP's acknowledgements from j still reach i, but data does not, and a
/// connection over a cut link retransmits until it gives up or the heal. A one-way cut stalls one
/// direction's data; the other's data arrives but, its acknowledgements being dropped, a TCP
/// sender on that side stalls too once its window is out (as in Jepsen; our in-transport filter
/// and the proxy cut frames, not packets, and let the other direction flow). The machine's own
/// namespace is never cut, so clients stay with their node as in the simulator.
///
/// Needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) and Debian's `iproute2` and `iptables`. Latency,
/// loss, duplication and reordering are not done here: this kernel has no `netem` queueing
/// discipline (`tc qdisc add … netem` answers "unknown"), so our nodes draw them in their
/// transport as on loopback and external systems refuse them.
final class NamespaceNetwork {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The run's third octet of 10.213.0.0/16.
    let subnet: Int
    let homes: [NodeHome]
    /// Where the commands' outputs and rule files go (a folder of its own, removed at teardown).
    private let folder: String
    /// The rules each namespace holds now, so that a change touches only the namespaces it changes.
    private var rules: [String]
    private var tornDown = false

    static let iptablesRestore = "/usr/sbin/iptables-restore"

    var bridge: String { "conlab-br\(subnet)" }
    func namespace(_ node: Int) -> String { "conlab-\(subnet)-n\(node + 1)" }
    private func host(_ node: Int) -> String { "10.213.\(subnet).\(node + 1)" }

    /// Why this process cannot build namespaces, nil when it can: it must be root on Linux with
    /// `ip` and `iptables-restore` installed.
    static func unavailable() -> String? {
        if geteuid() != 0 { return "--network netns needs root (network namespaces, veth pairs and iptables rules are the kernel's; run conlab as root, or leave the option out)" }
        for (tool, package) in [(NodeHome.ip, "iproute2"), (iptablesRestore, "iptables")] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "--network netns needs \(tool); install it with: apt-get install -y \(package)"
        }
        return nil
    }

    /// Builds the namespaces, veth pairs and bridge of `nodes` nodes on a subnet no interface or
    /// route of the machine uses yet (another run's included: the choice is made under a lock
    /// shared by every conlab on the machine).
    init(nodes: Int) throws {
        precondition(nodes >= 1 && nodes <= 253, "1…253 nodes")
        folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("conlab-netns-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        rules = Array(repeating: Self.rules(dropping: []), count: nodes)
        let lock = open("/run/lock/conlab-netns.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        if lock >= 0 { flock(lock, LOCK_EX) }
        defer { if lock >= 0 { flock(lock, LOCK_UN); close(lock) } }
        guard let free = Self.freeSubnet() else {
            throw Failure(description: "--network netns found no free subnet 10.213.X.0/24 (every X in use by an interface, a route or another run)")
        }
        subnet = free
        homes = (0..<nodes).map { NodeHome(host: "10.213.\(free).\($0 + 1)", namespace: "conlab-\(free)-n\($0 + 1)") }
        Self.live.lock()
        Self.built[free] = homes.compactMap(\.namespace)
        Self.live.unlock()
        do {
            try build(nodes: nodes)
        } catch {
            tearDown()
            throw error
        }
    }

    private func build(nodes: Int) throws {
        var outside = ["link add \(bridge) type bridge", "addr add 10.213.\(subnet).254/24 dev \(bridge)", "link set \(bridge) up"]
        for node in 0..<nodes {
            outside += ["netns add \(namespace(node))", "link add conlab-v\(subnet)n\(node + 1) type veth peer name eth0 netns \(namespace(node))",
                        "link set conlab-v\(subnet)n\(node + 1) master \(bridge) up"]
        }
        try ip([], batch: outside)
        for node in 0..<nodes {
            try ip(["-n", namespace(node)], batch: ["addr add \(host(node))/24 dev eth0", "link set eth0 up", "link set lo up"])
        }
    }

    /// `reachable[i][j]`: packets from node i reach node j. Rewrites the rules of every namespace
    /// whose set of unheard senders changed, each at once (`iptables-restore` replaces a table
    /// atomically).
    func cut(reachable: [[Bool]]) throws {
        for node in homes.indices {
            let text = Self.rules(dropping: homes.indices.filter { $0 != node && !reachable[$0][node] }.map(host))
            guard text != rules[node] else { continue }
            let file = (folder as NSString).appendingPathComponent("\(namespace(node)).rules")
            try Data(text.utf8).write(to: URL(fileURLWithPath: file))
            try Self.run(NodeHome.ip, ["netns", "exec", namespace(node), Self.iptablesRestore, file], log: commandLog)
            rules[node] = text
        }
    }

    /// An `iptables-restore` input for the filter table: drop whatever comes from `senders`.
    private static func rules(dropping senders: [String]) -> String {
        (["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
         + senders.map { "-A INPUT -s \($0)/32 -j DROP" } + ["COMMIT"]).joined(separator: "\n") + "\n"
    }

    /// Removes the namespaces (with the veth pairs in them) and the bridge. The processes inside
    /// must have been stopped: a namespace holding a process lives on after its name is deleted.
    func tearDown() {
        guard !tornDown else { return }
        tornDown = true
        Self.live.lock()
        Self.built[subnet] = nil
        Self.live.unlock()
        Self.remove(subnet: subnet, namespaces: homes.compactMap(\.namespace))
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The networks built and not yet torn down, by subnet: what an interrupted run removes.
    private static let live = NSLock()
    nonisolated(unsafe) private static var built: [Int: [String]] = [:]

    /// Removes every network this process built and has not torn down (`conlab run --real`
    /// interrupted); their processes must have been stopped. Returns how many namespaces went.
    @discardableResult
    static func removeAll() -> Int {
        live.lock()
        let networks = built
        built.removeAll()
        live.unlock()
        for (subnet, namespaces) in networks { remove(subnet: subnet, namespaces: namespaces) }
        return networks.values.map(\.count).reduce(0, +)
    }

    /// Deletes the namespaces (with the veth pairs in them) and the bridge, one command each so
    /// that one already gone does not keep the others.
    private static func remove(subnet: Int, namespaces: [String]) {
        for arguments in namespaces.map({ ["netns", "del", $0] }) + [["link", "del", "conlab-br\(subnet)"]] {
            try? run(NodeHome.ip, arguments, log: "/dev/null")
        }
    }

    deinit { tearDown() }

    private func ip(_ options: [String], batch lines: [String]) throws {
        let file = (folder as NSString).appendingPathComponent("batch-\(UUID().uuidString.prefix(8))")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Self.run(NodeHome.ip, options + ["-batch", file], log: commandLog)
    }

    /// Where a command's output goes, to quote when it fails.
    private var commandLog: String { (folder as NSString).appendingPathComponent("command.log") }

    /// Runs a command to its end; a failure names it with what it printed into `log`.
    private static func run(_ executable: String, _ arguments: [String], log: String) throws {
        if log != "/dev/null" { try? FileManager.default.removeItem(atPath: log) }
        let pid = try NodeProcesses.spawn(executable, arguments, logFile: log)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw Failure(description: "--network netns: \(([executable] + arguments).joined(separator: " ")) failed: "
                          + output.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    /// The first X in 1…250 that no interface (a bridge or veth pair of another run, or of one
    /// being freed), namespace or route of the machine uses. /proc/net/route prints each address
    /// as the hexadecimal of its network-order word read in the machine's order, which is how
    /// `UInt32(bigEndian:)` holds ours.
    private static func freeSubnet() -> Int? {
        let routes = (try? String(contentsOfFile: "/proc/net/route", encoding: .utf8)) ?? ""
        let used: [(destination: UInt32, mask: UInt32)] = routes.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count > 7, let destination = UInt32(fields[1], radix: 16), let mask = UInt32(fields[7], radix: 16) else { return nil }
            return (destination, mask)
        }
        // A veth pair outlives its namespace's name until the kernel frees the namespace, which
        // waits for its last socket (a minute or two after processes were killed): its name would
        // clash with the next network's on the same subnet.
        let interfaces = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/class/net")) ?? []
        let namespaces = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
        return (1...250).first { x in
            let ours = UInt32(bigEndian: (UInt32(10) << 24 | UInt32(213) << 16 | UInt32(x) << 8)), ourMask = UInt32(bigEndian: 0xffff_ff00)
            let overlaps = used.contains { route in route.mask != 0 && (route.destination & route.mask & ourMask) == (ours & route.mask & ourMask) }
            return !overlaps && !interfaces.contains { $0 == "conlab-br\(x)" || $0.hasPrefix("conlab-v\(x)n") }
                && !namespaces.contains { $0.hasPrefix("conlab-\(x)-") }
        }
    }
}
