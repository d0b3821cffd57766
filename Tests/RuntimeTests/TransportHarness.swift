import ConsensusCore
import Runtime
import Testing

/// One member of a test cluster: a transport on its own event loop (its own thread, as in a node
/// process), with what it received and reported recorded for the test to read.
final class TestNode: @unchecked Sendable {
    struct Delivery: Equatable, Sendable {
        var sender: NodeID
        var frame: [UInt8]
    }

    static let secret = Array("a cluster secret of enough bytes".utf8)
    static let clusterID: UInt64 = 0xC0FFEE

    let id: NodeID
    let loop: EventLoop
    /// Touched on `loop` only.
    private var transport: PeerTransport?
    let received = Recorder<Delivery>()
    let events = Recorder<PeerTransport.Event>()

    init(_ configuration: PeerTransport.Configuration) async throws {
        id = configuration.node
        loop = try EventLoop()
        do {
            try await open(configuration)
        } catch {
            loop.shutdown()
            throw error
        }
    }

    static func configuration(_ node: Int, of members: Int, secret: [UInt8] = secret, clusterID: UInt64 = clusterID,
                              port: UInt16 = 0) -> PeerTransport.Configuration {
        PeerTransport.Configuration(node: NodeID(node), members: NodeID.cluster(members), clusterID: clusterID, secret: secret,
                                    listenAddress: .loopback(port: port), maximumFrameBytes: 1 << 20, outputLimit: 2 << 20,
                                    handshakeTimeout: .milliseconds(500),
                                    reconnect: Backoff(initial: .milliseconds(20), maximum: .milliseconds(200)))
    }

    /// A new transport on this node's loop (after `close`, a restarted node).
    func open(_ configuration: PeerTransport.Configuration) async throws {
        let result = try await loop.submit { () -> Result<PeerTransport, SystemError> in
            Result { () throws(SystemError) in
                let transport = try PeerTransport(configuration: configuration, loop: self.loop)
                transport.onReceive = { frame, sender in self.received.append(Delivery(sender: sender, frame: frame)) }
                transport.onEvent = { self.events.append($0) }
                return transport
            }
        }
        transport = try result.get()
    }

    func on<T: Sendable>(_ body: @escaping @Sendable (PeerTransport) -> T) async throws -> T {
        try await loop.submit { body(self.transport!) }
    }

    var address: SocketAddress {
        get async throws { try await on { $0.listenAddress } }
    }

    func start(_ addresses: [NodeID: SocketAddress]) async throws {
        try await on { $0.start(addresses: addresses) }
    }

    func send(_ payload: [UInt8], to peer: Int) async throws -> PeerTransport.SendOutcome {
        try await on { $0.send(WireFrame(protocolName: "test", content: .message, payload: payload), to: NodeID(peer)) }
    }

    func isConnected(to peer: Int) async throws -> Bool {
        try await on { $0.isConnected(to: NodeID(peer)) }
    }

    func statistics(of peer: Int) async throws -> PeerTransport.Statistics {
        try await on { $0.statistics(of: NodeID(peer)) }
    }

    func close() async throws {
        try await on { $0.close() }
    }

    /// Frames received from `peer`, as payloads.
    func payloads(from peer: Int) -> [[UInt8]] {
        received.values.filter { $0.sender == NodeID(peer) }.map { frame in
            (try? WireFrame(decoding: frame.frame).payload) ?? []
        }
    }
}

/// Members 1…`count` of a cluster of `count`.
func standardCluster(_ count: Int) -> [PeerTransport.Configuration] {
    (1...count).map { TestNode.configuration($0, of: count) }
}

/// A node per configuration, each started with everyone's address; every loop is shut down
/// (threads joined, descriptors closed) however `body` ends.
func withCluster<T>(_ configurations: [PeerTransport.Configuration], _ body: ([TestNode]) async throws -> T) async throws -> T {
    var nodes: [TestNode] = []
    defer { for node in nodes { node.loop.shutdown() } }
    for configuration in configurations { nodes.append(try await TestNode(configuration)) }
    var addresses: [NodeID: SocketAddress] = [:]
    for node in nodes { addresses[node.id] = try await node.address }
    for node in nodes { try await node.start(addresses) }
    return try await body(nodes)
}

/// Whether every pair of `nodes` is connected, both ways.
func fullyConnected(_ nodes: [TestNode]) async throws -> Bool {
    for node in nodes {
        for other in nodes where other.id != node.id {
            guard try await node.isConnected(to: other.id.rawValue) else { return false }
        }
    }
    return true
}
