import Glibc

/// Loopback ports for servers a test or benchmark starts.
public enum LoopbackPorts {
    /// `count` ports free a moment ago, below the kernel's ephemeral range: the ports that outgoing
    /// connections and port-0 listeners get are never among them, so no other socket takes a
    /// server's port between this check and its start (or while it restarts). Different ports
    /// each call, starting from a random one, so parallel callers rarely meet.
    public static func free(_ count: Int) throws(SystemError) -> [UInt16] {
        let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))?
            .split(whereSeparator: \.isWhitespace).compactMap { Int($0) } ?? []
        let below = max(min(range.first ?? 32_768, 32_768), 12_000)
        var ports: [UInt16] = []
        var candidate = Int.random(in: 10_000..<(below - 1_000))
        while ports.count < count {
            candidate = candidate + 1 < below ? candidate + 1 : 10_000
            if try isFree(UInt16(candidate)) { ports.append(UInt16(candidate)) }
        }
        return ports
    }

    /// Whether a listener could bind `port` on 127.0.0.1 a moment ago.
    public static func isFree(_ port: UInt16) throws(SystemError) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket", errno: errno) }
        defer { close(fd) }
        return SocketAddress.loopback(port: port).withSocketAddress { bind(fd, $0, $1) } == 0
    }
}
