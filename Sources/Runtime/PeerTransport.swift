import ConsensusCore

/// A node's links to the other members of its cluster: one authenticated TCP connection per pair
/// of members, carrying `WireFrame`s both ways.
///
/// **Who dials.** Of each pair, the member with the lower id dials and the higher one accepts. One
/// rule both sides know beforehand means there is never a pair of crossing connections to settle
/// and no tie-break exchange to get wrong; the cost is that a restarted higher member waits for the
/// lower to redial (at most the back-off's initial delay, since a link that worked resets it). An
/// acceptor that authenticates a new connection from a member it is already linked to keeps the
/// new one (the peer restarted, or lost the old one without the acceptor noticing yet).
///
/// **Handshake.** Every connection opens with the mutual HMAC-SHA-256 challenge of `Handshake`:
/// magic, wire version, cluster id, both node ids and both nonces, each side proving the cluster
/// secret. A connection that fails it — a stray process, another cluster, a build of another wire
/// version, a non-member, the wrong secret, silence past `handshakeTimeout` — is closed and
/// reported as `Event.refused`; nothing it sent reaches `onReceive`.
///
/// **Frames.** After the handshake the stream is `WireFrame`s back to back (see `FrameReader`); a
/// frame with a bad header or longer than `maximumFrameBytes` closes that connection only
/// (`Event.disconnected(_, .malformedFrame)`); the dialer reconnects.
///
/// **Losing messages.** `send` never blocks and never buffers for a peer that is down: the frame is
/// dropped and counted, since every protocol here retransmits on its own timers. Each connection
/// queues at most `outputLimit` bytes; a frame that does not fit is dropped whole (drop-newest) and
/// counted. Dropping the newest keeps the stream intact (the oldest may already be half on the wire)
/// and costs nothing; a peer that cannot keep up loses recent messages, which its protocol recovers
/// like any other loss.
///
/// Confined to its loop's thread, like everything on an `EventLoop`.
public final class PeerTransport: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var node: NodeID
        /// Every member of the cluster, this node included. Connections from anyone else are refused.
        public var members: [NodeID]
        public var clusterID: UInt64
        /// Shared by the members; never sent. At least 16 bytes (32 random bytes recommended).
        public var secret: [UInt8]
        /// Where this node listens for its higher-id peers; port 0 lets the kernel choose.
        public var listenAddress: SocketAddress
        /// The longest frame sent or accepted, header included.
        public var maximumFrameBytes: Int
        /// Bytes each connection may queue for a peer that is not reading; at least one largest frame.
        public var outputLimit: Int
        public var handshakeTimeout: TimeSpan
        public var reconnect: Backoff

        public init(node: NodeID, members: [NodeID], clusterID: UInt64, secret: [UInt8],
                    listenAddress: SocketAddress = .loopback(port: 0),
                    maximumFrameBytes: Int = 16 << 20, outputLimit: Int = 32 << 20,
                    handshakeTimeout: TimeSpan = .seconds(2),
                    reconnect: Backoff = Backoff(initial: .milliseconds(50), maximum: .seconds(2))) {
            self.node = node
            self.members = members
            self.clusterID = clusterID
            self.secret = secret
            self.listenAddress = listenAddress
            self.maximumFrameBytes = maximumFrameBytes
            self.outputLimit = outputLimit
            self.handshakeTimeout = handshakeTimeout
            self.reconnect = reconnect
        }
    }

    /// What happened to the links, for the node's log. Drops are counted in `statistics(of:)` instead.
    public enum Event: Hashable, Sendable, CustomStringConvertible {
        /// An authenticated connection to the peer is up.
        case connected(NodeID)
        case disconnected(NodeID, DisconnectReason)
        /// A dial never connected; it is retried after the back-off.
        case unreachable(NodeID, SocketAddress, TCPConnection.CloseReason)
        /// A connection failed the handshake and was closed; `peer` is the member it claimed (or was
        /// dialled as), if it got that far. A dialled one is retried after the back-off.
        case refused(SocketAddress, peer: NodeID?, HandshakeFailure)
        /// The listener could not accept a connection; it keeps listening.
        case acceptFailed(SystemError)

        public var description: String {
            switch self {
            case .connected(let peer): "connected to \(peer)"
            case .disconnected(let peer, let reason): "disconnected from \(peer): \(reason)"
            case .unreachable(let peer, let address, let reason): "\(peer) at \(address) unreachable: \(reason)"
            case .refused(let address, let peer?, let failure): "refused \(peer) at \(address): \(failure)"
            case .refused(let address, nil, let failure): "refused a connection from \(address): \(failure)"
            case .acceptFailed(let error): "accept failed: \(error)"
            }
        }
    }

    public enum DisconnectReason: Hashable, Sendable, CustomStringConvertible {
        case closed(TCPConnection.CloseReason)
        /// The peer sent bytes that are not a frame this node accepts.
        case malformedFrame(FrameError)
        /// The peer connected again and the new connection took over.
        case replaced

        public var description: String {
            switch self {
            case .closed(let reason): reason.description
            case .malformedFrame(let error): "malformed stream (\(error))"
            case .replaced: "replaced by a newer connection"
            }
        }
    }

    public enum SendOutcome: Hashable, Sendable {
        /// Queued on the peer's connection.
        case queued
        /// Dropped (and counted): no authenticated connection to the peer.
        case peerDown
        /// Dropped (and counted): the connection's queue is at its byte bound.
        case queueFull
        /// Not sent: the id is not another member.
        case notAPeer
        /// Not sent: the bytes are not exactly one frame of at most `maximumFrameBytes`.
        case malformedFrame
    }

    /// Per peer, since the transport started.
    public struct Statistics: Hashable, Sendable {
        public var framesSent = 0
        public var bytesSent = 0
        public var framesReceived = 0
        public var bytesReceived = 0
        public var droppedPeerDown = 0
        public var droppedQueueFull = 0
        /// Authenticated connections established.
        public var connections = 0
    }

    private final class Peer {
        let id: NodeID
        /// This node dials the peer (its id is lower).
        let isDialled: Bool
        var address: SocketAddress?
        var link: PeerLink?
        var dialling: PeerLink?
        var redial: TimerID?
        /// Failed dials since the last connection that worked, for the back-off.
        var failures = 0
        var statistics = Statistics()

        init(id: NodeID, isDialled: Bool) {
            self.id = id
            self.isDialled = isDialled
        }
    }

    public let loop: EventLoop
    public let configuration: Configuration
    /// A frame arrived from an authenticated member. The bytes are one whole `WireFrame`.
    public var onReceive: ((_ frame: [UInt8], _ sender: NodeID) -> Void)?
    public var onEvent: ((Event) -> Void)?

    private let credentials: HandshakeCredentials
    private let listener: TCPListener
    private var peers: [NodeID: Peer] = [:]
    /// Accepted connections still in their handshake.
    private var accepting: [ObjectIdentifier: PeerLink] = [:]
    /// Nonces and jitter; the system generator draws from the kernel's CSPRNG (getrandom).
    private var random = SystemRandomNumberGenerator()
    private var isOpen = true

    /// Binds the listening socket at once (so `listenAddress` has its port); dials nothing until
    /// `start`. Call it on `loop`'s thread, and set `onReceive` and `onEvent` in the same turn.
    public init(configuration: Configuration, loop: EventLoop) throws(SystemError) {
        precondition(configuration.members.contains(configuration.node), "\(configuration.node) is not among the members")
        precondition(configuration.secret.count >= 16, "the cluster secret must have at least 16 bytes")
        precondition(configuration.outputLimit >= configuration.maximumFrameBytes, "the output limit must hold a largest frame")
        self.loop = loop
        self.configuration = configuration
        credentials = HandshakeCredentials(clusterID: configuration.clusterID, node: configuration.node,
                                           members: Set(configuration.members), mac: HMACSHA256(key: configuration.secret))
        listener = try TCPListener(loop: loop, address: configuration.listenAddress, connectionOutputLimit: configuration.outputLimit)
        for member in configuration.members where member != configuration.node {
            peers[member] = Peer(id: member, isDialled: configuration.node < member)
        }
        listener.onAccept = { [weak self] connection in self?.accept(connection) }
        listener.onAcceptFailure = { [weak self] error in self?.onEvent?(.acceptFailed(error)) }
    }

    /// The address this node listens on, with the port the kernel chose for port 0.
    public var listenAddress: SocketAddress { listener.address }

    /// Starts dialling the peers this node dials (those with higher ids); `addresses` must hold
    /// each of them (others are ignored: they dial this node).
    public func start(addresses: [NodeID: SocketAddress]) {
        loop.preconditionInLoop()
        for peer in peers.values.sorted(by: { $0.id < $1.id }) where peer.isDialled {
            guard let address = addresses[peer.id] else { preconditionFailure("no address for \(peer.id), which \(configuration.node) dials") }
            peer.address = address
            dial(peer)
        }
    }

    // MARK: Sending and state

    public func send(_ frame: [UInt8], to id: NodeID) -> SendOutcome {
        loop.preconditionInLoop()
        guard let peer = peers[id] else { return .notAPeer }
        guard FrameReader.isOneFrame(frame, limit: configuration.maximumFrameBytes) else { return .malformedFrame }
        guard let link = peer.link else {
            peer.statistics.droppedPeerDown += 1
            return .peerDown
        }
        switch link.connection.write(frame) {
        case .queued:
            peer.statistics.framesSent += 1
            peer.statistics.bytesSent += frame.count
            return .queued
        case .queueFull:
            peer.statistics.droppedQueueFull += 1
            return .queueFull
        case .closed:
            // A closed connection leaves `peer.link` as it closes; this is a defence, not a path.
            peer.statistics.droppedPeerDown += 1
            return .peerDown
        }
    }

    public func send(_ frame: WireFrame, to id: NodeID) -> SendOutcome {
        send(frame.encodedBytes(), to: id)
    }

    public func isConnected(to id: NodeID) -> Bool {
        loop.preconditionInLoop()
        return peers[id]?.link != nil
    }

    public func statistics(of id: NodeID) -> Statistics {
        loop.preconditionInLoop()
        return peers[id]?.statistics ?? Statistics()
    }

    /// Closes the listener and every connection and stops redialling. Nothing is reported after it.
    public func close() {
        loop.preconditionInLoop()
        guard isOpen else { return }
        isOpen = false
        onReceive = nil
        onEvent = nil
        listener.close()
        for link in accepting.values { link.close() }
        accepting.removeAll()
        for peer in peers.values {
            peer.link?.close()
            peer.dialling?.close()
            peer.link = nil
            peer.dialling = nil
            if let redial = peer.redial { loop.cancel(redial) }
            peer.redial = nil
        }
    }

    // MARK: Connecting

    private func dial(_ peer: Peer) {
        peer.redial = nil
        guard isOpen, let address = peer.address else { return }
        do throws(SystemError) {
            let connection = try TCPConnection.connect(to: address, on: loop, outputLimit: configuration.outputLimit)
            let (handshake, hello) = Handshake.dial(peer.id, credentials: credentials, nonce: makeNonce())
            peer.dialling = PeerLink(dialing: connection, handshake: handshake, hello: hello, owner: self)
        } catch {
            onEvent?(.unreachable(peer.id, address, .failed(error)))
            scheduleRedial(peer)
        }
    }

    private func scheduleRedial(_ peer: Peer) {
        guard isOpen, peer.isDialled, peer.redial == nil else { return }
        let delay = configuration.reconnect.delay(afterFailures: peer.failures, using: &random)
        peer.failures += 1
        peer.redial = loop.schedule(after: delay) { [weak self, peer] in self?.dial(peer) }
    }

    private func accept(_ connection: TCPConnection) {
        let link = PeerLink(accepted: connection, handshake: .accept(credentials: credentials, nonce: makeNonce()), owner: self)
        accepting[ObjectIdentifier(link)] = link
    }

    private func makeNonce() -> [UInt8] {
        var nonce: [UInt8] = []
        nonce.reserveCapacity(Handshake.nonceBytes)
        for _ in 0..<Handshake.nonceBytes / 8 { withUnsafeBytes(of: random.next()) { nonce.append(contentsOf: $0) } }
        return nonce
    }

    // MARK: What links report

    func linkEstablished(_ link: PeerLink) {
        guard let id = link.peer, let peer = peers[id] else { preconditionFailure("a handshake established a non-member") }
        if peer.dialling === link {
            peer.dialling = nil
            peer.failures = 0
        } else {
            accepting[ObjectIdentifier(link)] = nil
            if let old = peer.link {
                old.close()
                onEvent?(.disconnected(id, .replaced))
            }
        }
        peer.link = link
        peer.statistics.connections += 1
        onEvent?(.connected(id))
    }

    func link(_ link: PeerLink, received frame: [UInt8]) {
        guard let id = link.peer, let peer = peers[id] else { return }
        peer.statistics.framesReceived += 1
        peer.statistics.bytesReceived += frame.count
        onReceive?(frame, id)
    }

    func link(_ link: PeerLink, ended end: PeerLink.End) {
        let peer = link.peer.flatMap { peers[$0] }
        if let peer, peer.link === link {
            peer.link = nil
        } else if let peer, peer.dialling === link {
            peer.dialling = nil
        } else {
            accepting[ObjectIdentifier(link)] = nil
        }
        switch end {
        case .unreachable(let reason): onEvent?(.unreachable(link.peer!, link.connection.peer, reason))
        case .refused(let failure): onEvent?(.refused(link.connection.peer, peer: link.peer, failure))
        case .disconnected(let reason): onEvent?(.disconnected(link.peer!, reason))
        }
        if let peer, peer.link == nil, peer.dialling == nil { scheduleRedial(peer) }
    }
}
