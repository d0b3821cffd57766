import Glibc
import Runtime

/// Where a process of a local cluster lives on the network: on the machine's loopback, as every
/// cluster the lab starts by default, or alone in a network namespace with an address of its own
/// on a bridge (`conlab run --real --network netns`), where the kernel can cut its links as Jepsen
/// cuts a database's, whatever the process is.
public struct NodeHome: Hashable, Sendable {
    /// The address the process listens on and others reach it at.
    public var host: String
    /// The network namespace the process runs in; nil for the machine's own network.
    public var namespace: String?

    public static let loopback = NodeHome(host: "127.0.0.1", namespace: nil)

    public init(host: String, namespace: String?) {
        self.host = host
        self.namespace = namespace
    }

    /// The process's address at `port`.
    public func address(port: UInt16) -> SocketAddress {
        guard let address = SocketAddress(host: host, port: port) else { preconditionFailure("\(host) is not a dotted quad") }
        return address
    }

    /// Where `ip` is (Debian's iproute2); `ip netns exec` enters a namespace and then executes the
    /// program itself, so the pid it is started with is the program's, to signal as any other.
    public static let ip = "/usr/sbin/ip"

    /// Starts `executable` here (see `NodeProcesses.spawn`).
    public func spawn(_ executable: String, _ arguments: [String], logFile: String) throws(SystemError) -> pid_t {
        guard let namespace else { return try NodeProcesses.spawn(executable, arguments, logFile: logFile) }
        return try NodeProcesses.spawn(Self.ip, ["netns", "exec", namespace, executable] + arguments, logFile: logFile)
    }
}
