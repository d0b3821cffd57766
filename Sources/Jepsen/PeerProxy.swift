import ConsensusCore
import Foundation
import Glibc
import Runtime
import Simulator

/// A TCP proxy on loopback that an external system's peer traffic goes through, so the lab can
/// cut links it does not control: endpoint `e` (a server of node `nodes[e]`) advertises
/// `addresses[e]`, the proxy listens there and forwards each connection to `targets[e]`, the
/// endpoint's real port.
///
/// Which node opened a connection is read from the first bytes it sends (`identify`: etcd names
/// the sender's advertised peer URL in every raft request; a Redis replica its port in the
/// replication handshake, a Sentinel its id in its client name). Bytes from node `i` to node `j` —
/// the requests on `i`'s connections to `j`, the responses on `j`'s connections to `i` — flow only
/// while `i` reaches `j`; while it does not they stall in the proxy, as data stalls on a cut link,
/// and flow again at the heal unless a side gave up on the connection meanwhile (TCP over a cut:
/// nothing is lost, everything is late). Until its sender is named, and on a connection whose
/// sender never is (etcd's version and health probes, a Redis `PING` before the handshake names
/// the replica), bytes flow uncut; the proxy keeps reading a connection's bytes until they name
/// its sender or say it is nobody's.
///
/// Each link's added latency (the scenario's `network`, and `network` faults' latency) delays
/// every chunk by a draw from its distribution, never before the chunk ahead of it. A thread
/// accepts on each listener, and each direction of a connection has a reader and a deliverer,
/// with blocking calls: a few peers' connections, never a hot path.
final class PeerProxy: @unchecked Sendable {
    /// Who sent a connection's first bytes, as far as they tell.
    enum Sender: Hashable, Sendable {
        case node(Int)
        /// The bytes name nobody, and no later bytes will.
        case anonymous
        /// Not yet known: later bytes may tell (the rest of a head, or a later request on the
        /// same connection).
        case undecided
    }

    let addresses: [SocketAddress]
    private let targets: [SocketAddress]
    /// The node each endpoint belongs to.
    private let nodes: [Int]
    private let identify: @Sendable ([UInt8]) -> Sender
    /// Guards everything below and every connection's state; a thread that waits does so on its
    /// direction's `wakeup`, so a chunk wakes only its deliverer.
    private let lock = NSLock()
    /// `reachable[i][j]`: bytes from node i flow to node j.
    private var reachable: [[Bool]]
    /// `latency[i][j]`: how long bytes from node i take to node j, on top of loopback's.
    private var latency: [[LatencyDistribution]]
    private var connections = 0
    private var listeners: [Int32] = []
    private var open: Set<Int32> = []
    /// The connections not yet closed, to wake when the links change or the proxy stops.
    private var live: [ObjectIdentifier: Connection] = [:]
    private var stopped = false

    /// Listens on `ports` (one per endpoint) in front of `targets`; endpoint `e` belongs to node
    /// `nodes[e]` (by default endpoint `e` is node `e`).
    init(ports: [UInt16], targets: [SocketAddress], nodes: [Int]? = nil, identify: @escaping @Sendable ([UInt8]) -> Sender) throws {
        addresses = ports.map { SocketAddress.loopback(port: $0) }
        self.targets = targets
        self.nodes = nodes ?? Array(targets.indices)
        self.identify = identify
        let count = (self.nodes.max() ?? 0) + 1
        reachable = Array(repeating: Array(repeating: true, count: count), count: count)
        latency = Array(repeating: Array(repeating: .fixed(.zero), count: count), count: count)
        do {
            for (member, address) in addresses.enumerated() {
                let fd = try Self.listen(on: address)
                listeners.append(fd)
                Thread.detachNewThread { [self] in accept(on: fd, member: member) }
            }
        } catch {
            // The listeners already open end their accept threads, which close them.
            stop()
            throw error
        }
    }

    /// Which members reach which, and each link's added latency, from now on; stalled bytes move
    /// on where a link came back.
    func setLinks(reachable: [[Bool]], latency: [[LatencyDistribution]]) {
        lock.lock()
        self.reachable = reachable
        self.latency = latency
        let connections = Array(live.values)
        lock.unlock()
        for connection in connections { connection.wake() }
    }

    /// Closes every listener and connection; the threads end on their own.
    func stop() {
        lock.lock()
        stopped = true
        for fd in listeners + open { shutdown(fd, Int32(SHUT_RDWR)) }
        let connections = Array(live.values)
        lock.unlock()
        for connection in connections { connection.wake() }
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
            let connection = register(Connection(target: nodes[member], downstream: downstream, upstream: upstream, number: nextConnection()))
            for direction in [connection.request, connection.response] {
                Thread.detachNewThread { [self] in receive(direction, of: connection) }
                Thread.detachNewThread { [self] in deliver(direction, of: connection) }
            }
        }
    }

    private func nextConnection() -> Int {
        lock.lock()
        defer { lock.unlock() }
        connections += 1
        return connections
    }

    private func register(_ connection: Connection) -> Connection {
        lock.lock()
        defer { lock.unlock() }
        live[ObjectIdentifier(connection)] = connection
        return connection
    }

    /// Registers open sockets, so `stop` can close them; false once stopped.
    private func track(_ fds: [Int32]) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return false }
        open.formUnion(fds)
        return true
    }

    /// One direction of a connection: what was read and when each chunk is due at the other end.
    private final class Direction: @unchecked Sendable {
        let towardTarget: Bool
        let from: Int32
        let to: Int32
        var queue: [(due: Instant, bytes: [UInt8])] = []
        /// The last chunk's due time: a later chunk is never due before it (TCP keeps order).
        var lastDue = Instant.zero
        var ended = false
        var random: DeterministicRandom
        /// Signalled when there may be something for its deliverer to do.
        let wakeup = DispatchSemaphore(value: 0)

        init(towardTarget: Bool, from: Int32, to: Int32, number: Int) {
            self.towardTarget = towardTarget
            self.from = from
            self.to = to
            random = DeterministicRandom(seed: UInt64(number), label: towardTarget ? "proxy-request" : "proxy-response")
        }
    }

    /// One proxied connection; the sender is learnt from its first bytes.
    private final class Connection: @unchecked Sendable {
        /// The node of the endpoint it reaches.
        let target: Int
        let downstream: Int32
        let upstream: Int32
        let request: Direction
        let response: Direction
        var source: Int?
        var head: [UInt8] = []
        /// Whether the first bytes told (the sender named, or nobody).
        var identified = false
        /// Threads still working on it (a reader and a deliverer per direction).
        var threads = 4

        init(target: Int, downstream: Int32, upstream: Int32, number: Int) {
            self.target = target
            self.downstream = downstream
            self.upstream = upstream
            request = Direction(towardTarget: true, from: downstream, to: upstream, number: number)
            response = Direction(towardTarget: false, from: upstream, to: downstream, number: number)
        }

        func wake() {
            request.wakeup.signal()
            response.wakeup.signal()
        }

        /// Sender and receiver of a direction, once the sender is known.
        func link(_ direction: Direction) -> (from: Int, to: Int)? {
            guard let source else { return nil }
            return direction.towardTarget ? (source, target) : (target, source)
        }
    }

    /// Reads one direction and queues each chunk with its due time, until the side ends.
    private func receive(_ direction: Direction, of connection: Connection) {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = read(direction.from, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            lock.lock()
            guard count > 0 else { break }
            let chunk = Array(buffer[..<count])
            if direction.towardTarget { learnSender(connection, from: chunk) }
            let delay = connection.link(direction).map { latency[$0.from][$0.to].sample(&direction.random) } ?? .zero
            direction.lastDue = max(direction.lastDue, MonotonicClock.now() + delay)
            direction.queue.append((direction.lastDue, chunk))
            lock.unlock()
            direction.wakeup.signal()
        }
        direction.ended = true
        done(connection)
        lock.unlock()
        direction.wakeup.signal()
    }

    /// Reads the sender from the bytes so far. Until they name one, later bytes are read too, the
    /// last few KiB kept: a kept-alive HTTP connection that carried an anonymous probe may carry a
    /// peer's raft requests next (Go's transport reuses idle connections), and a cut must catch
    /// them. Holds the lock.
    private func learnSender(_ connection: Connection, from chunk: [UInt8]) {
        guard !connection.identified else { return }
        connection.head += chunk
        switch identify(connection.head) {
        case .node(let node): connection.source = node
        case .anonymous: break
        case .undecided:
            if connection.head.count > Self.headWindow { connection.head.removeFirst(connection.head.count - Self.headWindow / 4) }
            return
        }
        connection.identified = true
        connection.head = []
    }

    /// How many bytes of a connection not yet named are kept for `identify`.
    static let headWindow = 16 << 10

    /// Writes one direction's chunks when due and while the link is up; when the side it reads
    /// has ended and everything is written, or a write fails, ends the whole connection.
    private func deliver(_ direction: Direction, of connection: Connection) {
        lock.lock()
        while !stopped {
            // Nothing due: wait for a chunk, a change of the links, or the first chunk's time.
            var wait = TimeSpan.milliseconds(100)
            if let next = direction.queue.first, let delay = delay(next.due, direction, connection) {
                if delay <= .zero {
                    direction.queue.removeFirst()
                    lock.unlock()
                    let sent = Self.send(next.bytes, to: direction.to)
                    lock.lock()
                    if sent { continue }
                    break
                }
                wait = min(wait, delay)
            } else if direction.ended && direction.queue.isEmpty {
                break
            }
            lock.unlock()
            _ = direction.wakeup.wait(timeout: .now() + .microseconds(Int(wait.microseconds)))
            lock.lock()
        }
        shutdown(connection.downstream, Int32(SHUT_RDWR))
        shutdown(connection.upstream, Int32(SHUT_RDWR))
        done(connection)
        lock.unlock()
    }

    /// How long until the queue's first chunk may be written; nil while its link is cut. Holds
    /// the lock.
    private func delay(_ due: Instant, _ direction: Direction, _ connection: Connection) -> TimeSpan? {
        if let link = connection.link(direction), !reachable[link.from][link.to] { return nil }
        return due - MonotonicClock.now()
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

    /// One of the connection's threads is done (holding the lock); the last closes both sockets.
    private func done(_ connection: Connection) {
        connection.threads -= 1
        guard connection.threads == 0 else { return }
        open.remove(connection.downstream)
        open.remove(connection.upstream)
        live[ObjectIdentifier(connection)] = nil
        close(connection.downstream)
        close(connection.upstream)
    }
}
