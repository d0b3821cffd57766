import ConsensusCore
import Glibc

/// A connected TCP socket with blocking calls, each bounded by a timeout: what a tool's client
/// needs (`Server.RESPClient`, `conlab load`'s clients), and no more. Nodes use the event loop.
public final class TCPStream {
    public let address: SocketAddress
    private let fd: Int32

    /// Why a connection could not be made or used.
    public struct Failure: Error, Hashable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Connects to `address`; `timeout` bounds the connect and each later send and receive.
    /// A failed attempt closes its socket before `init` throws (`deinit` runs only for a whole object).
    public init(connectingTo address: SocketAddress, timeout: TimeSpan) throws(Failure) {
        self.address = address
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: SystemError("socket", errno: errno).description) }
        var limit = timeval(tv_sec: Int(timeout.microseconds / 1_000_000), tv_usec: Int(timeout.microseconds % 1_000_000))
        for option in [SO_SNDTIMEO, SO_RCVTIMEO] {
            setsockopt(socket, SOL_SOCKET, option, &limit, socklen_t(MemoryLayout<timeval>.size))
        }
        // Requests are small and each waits for its answer: Nagle's delay would be pure latency.
        var one: Int32 = 1
        setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        guard address.withSocketAddress({ connect(socket, $0, $1) }) == 0 else {
            let error = SystemError("connect to \(address)", errno: errno)
            close(socket)
            throw Failure(description: error.description)
        }
        fd = socket
    }

    deinit { close(fd) }

    /// Sends all of `bytes`.
    public func write(_ bytes: [UInt8]) throws(Failure) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else {
                if count < 0 && errno == EINTR { continue }
                throw Failure(description: "send to \(address): \(SystemError("send", errno: errno))")
            }
            sent += count
        }
    }

    /// Receives what has arrived into `buffer` (at most its size); 0 means the peer closed.
    public func read(into buffer: inout [UInt8]) throws(Failure) -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count >= 0 { return count }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw Failure(description: "no reply from \(address) in time") }
            if errno != EINTR { throw Failure(description: "receive from \(address): \(SystemError("recv", errno: errno))") }
        }
    }
}
