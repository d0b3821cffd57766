import ConsensusCore
@testable import Runtime
import Testing

/// Peers that misbehave, played by raw sockets: each is refused or cut off alone, and the
/// transport keeps serving the members that behave.
@Suite struct RoguePeerTests {
    /// A hello as `Handshake` documents it, with any field chosen.
    static func hello(version: UInt8 = WireFrame.version, cluster: UInt64 = TestNode.clusterID, from sender: Int, to receiver: Int) -> [UInt8] {
        var writer = ByteWriter()
        for byte in "CLAB".utf8 { writer.write(byte) }
        writer.write(version)
        writer.write(cluster)
        writer.write(sender)
        writer.write(receiver)
        for _ in 0..<Handshake.nonceBytes { writer.write(UInt8(0x5A)) }
        return writer.bytes
    }

    static func credentials(_ node: Int) -> HandshakeCredentials {
        HandshakeCredentials(clusterID: TestNode.clusterID, node: NodeID(node), members: Set(NodeID.cluster(3)), mac: HMACSHA256(key: TestNode.secret))
    }

    /// Completes the handshake with `port` as member `node` (it holds the secret), dialling `peer`.
    static func authenticate(_ raw: RawPeer, as node: Int, to peer: Int) throws {
        var (handshake, hello) = Handshake.dial(NodeID(peer), credentials: credentials(node), nonce: HandshakeTests.nonce(9))
        try raw.send(hello)
        guard case .established(_, let proof?) = try HandshakeTests.feed(&handshake, try raw.receive(Handshake.challengeBytes)) else {
            throw RawPeerError.endOfStream
        }
        try raw.send(proof)
    }

    static func frame(_ payload: [UInt8]) -> [UInt8] {
        WireFrame(protocolName: "test", content: .message, payload: payload).encodedBytes()
    }

    struct Stray: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var failure: HandshakeFailure
        var testDescription: String { name }
    }

    static let strays: [Stray] = [
        Stray(name: "an HTTP client", bytes: Array("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n".utf8), failure: .badMagic),
        Stray(name: "another wire version", bytes: hello(version: WireFrame.version + 1, from: 1, to: 2), failure: .unsupportedVersion(WireFrame.version + 1)),
        Stray(name: "another cluster", bytes: hello(cluster: 99, from: 1, to: 2), failure: .wrongCluster(99)),
        Stray(name: "a non-member", bytes: hello(from: 7, to: 2), failure: .unknownNode(7)),
        Stray(name: "a higher id dialling", bytes: hello(from: 3, to: 2), failure: .wrongDirection(NodeID(3))),
        Stray(name: "a hello for another node", bytes: hello(from: 1, to: 3), failure: .misaddressed(expected: NodeID(2), actual: NodeID(3))),
        Stray(name: "a member without the secret", bytes: hello(from: 1, to: 2), failure: .badProof),
        Stray(name: "silence", bytes: [], failure: .timedOut),
    ]

    @Test(arguments: strays) func aStrayConnectionIsRefusedAndClosed(_ stray: Stray) async throws {
        try await withCluster(Array(standardCluster(3)[1...])) { nodes async throws in
            let (two, three) = (nodes[0], nodes[1])
            #expect(try await eventually { try await two.isConnected(to: 3) })
            let raw = try RawPeer(connectingTo: try await two.address.port)
            try raw.send(stray.bytes)
            if stray.failure == .badProof {
                _ = try raw.receive(Handshake.challengeBytes)
                try raw.send([UInt8](repeating: 0x42, count: Handshake.proofBytes))
            }
            #expect(raw.isClosedByPeer())
            #expect(await eventually { two.events.values.contains { $0.isRefusal(stray.failure) } })
            #expect(try await two.send([1], to: 3) == .queued)
            #expect(await eventually { three.payloads(from: 2) == [[1]] })
            #expect(two.received.values.isEmpty)
        }
    }

    struct Garbage: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var error: FrameError
        var testDescription: String { name }
    }

    static let garbage: [Garbage] = {
        var oversized = frame([])
        oversized.replaceSubrange(7..<11, with: [0, 0, 0x10, 0])  // "test" frame: payload length at 7; 1 MiB is over the 1 MiB frame limit with the header
        var badContent = frame([1])
        badContent[6] = 9
        return [
            Garbage(name: "an oversized frame", bytes: oversized, error: .oversized(bytes: 11 + (1 << 20), limit: 1 << 20)),
            Garbage(name: "another frame version", bytes: [7] + frame([1]).dropFirst(), error: .unsupportedVersion(7)),
            Garbage(name: "an empty protocol name", bytes: [WireFrame.version, 0, 0, 0, 0, 0, 0], error: .invalidProtocolNameLength(0)),
            Garbage(name: "a bad content tag", bytes: badContent, error: .invalidContent(9)),
        ]
    }()

    /// A member (it holds the secret) sends one good frame, then garbage: that connection is closed,
    /// the good frame was delivered, and the other link carries on.
    @Test(arguments: garbage) func aMalformedFrameClosesOnlyItsConnection(_ garbage: Garbage) async throws {
        try await withCluster(Array(standardCluster(3)[1...])) { nodes async throws in
            let (two, three) = (nodes[0], nodes[1])
            #expect(try await eventually { try await two.isConnected(to: 3) })
            let raw = try RawPeer(connectingTo: try await three.address.port)
            try Self.authenticate(raw, as: 1, to: 3)
            try raw.send(Self.frame([42]) + garbage.bytes)
            #expect(raw.isClosedByPeer())
            #expect(await eventually { three.events.values.contains(.disconnected(NodeID(1), .malformedFrame(garbage.error))) })
            #expect(three.payloads(from: 1) == [[42]])
            #expect(try await two.send([2], to: 3) == .queued)
            #expect(try await three.send([3], to: 2) == .queued)
            #expect(await eventually { three.payloads(from: 2) == [[2]] && two.payloads(from: 3) == [[3]] })
        }
    }

    /// A member that authenticates and then never reads: the kernel's buffers fill, then the
    /// connection's queue up to its bound; later frames are dropped, counted, and the link stays up.
    @Test func aPeerThatStopsReadingCostsAtMostTheQueueBound() async throws {
        let listener = try RawListener()
        // The handshake is not what this test is about: a suite busy with other tests may keep
        // this one from answering within the harness's 500 ms, and the node would hang up on it.
        var configuration = TestNode.configuration(1, of: 2)
        configuration.handshakeTimeout = .seconds(60)
        let node = try await TestNode(configuration)
        defer { node.loop.shutdown() }
        try await node.start([NodeID(2): .loopback(port: listener.port)])
        let raw = try RawPeer(acceptingFrom: listener)
        var acceptor = Handshake.accept(credentials: Self.credentials(2), nonce: HandshakeTests.nonce(7))
        guard case .reply(let challenge) = try HandshakeTests.feed(&acceptor, try raw.receive(Handshake.helloBytes)) else {
            Issue.record("no challenge")
            return
        }
        try raw.send(challenge)
        #expect(try HandshakeTests.feed(&acceptor, try raw.receive(Handshake.proofBytes)) == .established(NodeID(1), reply: nil))
        #expect(try await eventually { try await node.isConnected(to: 2) })

        let outcomes = Recorder<PeerTransport.SendOutcome>()
        let frame = Self.frame([UInt8](repeating: 1, count: 64 << 10))
        try await node.on { transport in
            func sendMore() {
                let outcome = transport.send(frame, to: NodeID(2))
                outcomes.append(outcome)
                if outcome == .queued { transport.loop.schedule(after: .microseconds(100), sendMore) }
            }
            sendMore()
        }
        #expect(await eventually { outcomes.values.last == .queueFull })
        let statistics = try await node.statistics(of: 2)
        #expect(statistics.droppedQueueFull == 1)
        #expect(statistics.framesSent == outcomes.values.count - 1)
        #expect(try await node.on { $0.send(frame, to: NodeID(2)) } == .queueFull)
        #expect(try await node.isConnected(to: 2))
    }
}
