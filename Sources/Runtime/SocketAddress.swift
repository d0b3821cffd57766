import Glibc

/// An IPv4 address and port. Numeric and IPv4 only: a cluster's peers are configured by address,
/// and a node that resolved names would stall its event loop in the resolver.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address in network byte order, as `sockaddr_in` holds it.
    let ipv4: UInt32
    public var port: UInt16

    /// `host` must be a dotted quad such as `"127.0.0.1"`.
    public init?(host: String, port: UInt16) {
        var address = in_addr()
        guard inet_pton(AF_INET, host, &address) == 1 else { return nil }
        self.init(ipv4: address.s_addr, port: port)
    }

    /// Parses `"127.0.0.1:7001"`.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        self.init(host: String(text[..<colon]), port: port)
    }

    init(ipv4: UInt32, port: UInt16) {
        self.ipv4 = ipv4
        self.port = port
    }

    /// 127.0.0.1 at `port`; port 0 asks the kernel to choose when listening.
    public static func loopback(port: UInt16) -> SocketAddress { SocketAddress(ipv4: UInt32(0x7f00_0001).bigEndian, port: port) }

    public var host: String {
        var address = in_addr(s_addr: ipv4)
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var description: String { "\(host):\(port)" }

    /// The address as `sockaddr_in`, for a system call (`bind`, `connect`) made during `body`.
    public func withSocketAddress<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr = in_addr(s_addr: ipv4)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// The local address `fd` is bound to (the port the kernel chose for port 0).
    static func local(of fd: Int32) throws(SystemError) -> SocketAddress {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw .last("getsockname") }
        return SocketAddress(ipv4: address.sin_addr.s_addr, port: UInt16(bigEndian: address.sin_port))
    }
}
