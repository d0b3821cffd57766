import ConsensusCore
import Foundation
import Glibc
import Runtime

/// A TCP proxy on loopback that an external system's peer traffic goes through, so the lab can
/// cut links it does not control: member `j` advertises `addresses[j]` as its peer address, the
/// proxy listens there and forwards each connection to `targets[j]`, the member's real peer port.
///
/// Which member opened a connection is read from the first bytes it sends (`identify`; etcd
/// names the sender's advertised peer URL in every raft request). Bytes from `i` to `j` — the
/// requests on `i`'s connections to `j`, the responses on `j`'s connections to `i` — flow only
/// while `i` reaches `j`; while it does not they stall in the proxy, as data stalls on a cut link,
/// and flow again at the heal unless a side gave up on the connection meanwhile (TCP over a cut:
/// nothing is lost, everything is late). A connection whose sender is not named (etcd's version
/// and health probes) is never cut: it carries no raft message.
///
/// A thread accepts on each listener and two threads pump each connection, with blocking calls:
/// a few peers' connections, never a hot path.
final class PeerProxy: @unchecked Sendable {
    let addresses: [SocketAddress]
    private let targets: [SocketAddress]
    private let identify: @Sendable ([UInt8]) -> Int?
    private let condition = NSCondition()
    /// `reachable[i][j]`: bytes from member i flow to member j.
    private var reachable: [[Bool]]
    private var listeners: [Int32] = []
    private var open: Set<Int32> = []
    private var stopped = false

    /// Listens on `ports` (one per member) in front of `targets`.
    init(ports: [UInt16], targets: [SocketAddress], identify: @escaping @Sendable ([UInt8]) -> Int?) throws {
        addresses = ports.map { SocketAddress.loopback(port: $0) }
        self.targets = targets
        self.identify = identify
        reachable = Array(repeating: Array(repeating: true, count: targets.count), count: targets.count)
        for (member, address) in addresses.enumerated() {
            let fd = try Self.listen(on: address)
            listeners.append(fd)
            Thread.detachNewThread { [self] in accept(on: fd, member: member) }
        }
    }

    /// Which members reach which from now on; stalled bytes move on where a link came back.
    func setReachability(_ matrix: [[Bool]]) {
        condition.lock()
        reachable = matrix
        condition.broadcast()
        condition.unlock()
    }

    /// Closes every listener and connection; the threads end on their own.
    func stop() {
        condition.lock()
        stopped = true
        for fd in listeners + open { shutdown(fd, Int32(SHUT_RDWR)) }
        condition.broadcast()
        condition.unlock()
    }

    private static func listen(on address: SocketAddress) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard fd >= 0, address.withSocketAddress({ bind(fd, $0, $1) }) == 0, Glibc.listen(fd, 128) == 0 else {
            let error = SystemError("listen on \(address) (peer proxy)", errno: errno)
            if fd >= 0 { close(fd) }
            throw ProcessCluster.Failure(description: error.description)
        }
        return fd
    }

    private func accept(on listener: Int32, member: Int) {
        while true {
            let downstream = Glibc.accept(listener, nil, nil)
            guard downstream >= 0 else {
                if errno == EINTR { continue }
                close(listener)
                return
            }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard upstream >= 0, targets[member].withSocketAddress({ connect(upstream, $0, $1) }) == 0, track([downstream, upstream]) else {
                close(downstream)
                if upstream >= 0 { close(upstream) }
                continue
            }
            let connection = Connection(target: member, downstream: downstream, upstream: upstream)
            Thread.detachNewThread { [self] in pump(connection, towardTarget: true) }
            Thread.detachNewThread { [self] in pump(connection, towardTarget: false) }
        }
    }

    /// Registers open sockets, so `stop` can close them; false once stopped.
    private func track(_ fds: [Int32]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopped else { return false }
        open.formUnion(fds)
        return true
    }

    /// One proxied connection; the sender is learnt from its first bytes.
    private final class Connection: @unchecked Sendable {
        let target: Int
        let downstream: Int32
        let upstream: Int32
        var source: Int?
        var head: [UInt8] = []
        /// Whether the head was read (the sender named or not).
        var identified = false
        var pumps = 2

        init(target: Int, downstream: Int32, upstream: Int32) {
            self.target = target
            self.downstream = downstream
            self.upstream = upstream
        }
    }

    /// Copies one direction until either side ends, waiting while the link is cut.
    private func pump(_ connection: Connection, towardTarget: Bool) {
        let from = towardTarget ? connection.downstream : connection.upstream
        let to = towardTarget ? connection.upstream : connection.downstream
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = read(from, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            let chunk = Array(buffer[..<count])
            if towardTarget { learnSender(connection, from: chunk) }
            guard waitUntilFlowing(connection, towardTarget: towardTarget), Self.send(chunk, to: to) else { break }
        }
        finish(connection)
    }

    private func learnSender(_ connection: Connection, from chunk: [UInt8]) {
        condition.lock()
        defer { condition.unlock() }
        guard !connection.identified else { return }
        connection.head += chunk
        guard let end = connection.head.firstRange(of: Array("\r\n\r\n".utf8)) ?? (connection.head.count > 16 << 10 ? 0..<0 : nil) else { return }
        connection.source = identify(Array(connection.head[..<end.lowerBound]))
        connection.identified = true
        connection.head = []
        condition.broadcast()
    }

    /// Waits until bytes of this direction may flow; false when the proxy stopped.
    private func waitUntilFlowing(_ connection: Connection, towardTarget: Bool) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !stopped {
            // Responses wait for the request that names their receiver.
            if connection.identified {
                guard let source = connection.source else { return true }
                let (sender, receiver) = towardTarget ? (source, connection.target) : (connection.target, source)
                if reachable[sender][receiver] { return true }
            }
            condition.wait(until: Date().addingTimeInterval(0.1))
        }
        return false
    }

    private static func send(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return false }
            sent += count
        }
        return true
    }

    /// One direction ended: the other is ended too; the last one closes both sockets.
    private func finish(_ connection: Connection) {
        condition.lock()
        defer { condition.unlock() }
        shutdown(connection.downstream, Int32(SHUT_RDWR))
        shutdown(connection.upstream, Int32(SHUT_RDWR))
        connection.pumps -= 1
        guard connection.pumps == 0 else { return }
        open.remove(connection.downstream)
        open.remove(connection.upstream)
        close(connection.downstream)
        close(connection.upstream)
    }
}
