import ConsensusCore
@testable import Runtime
import Testing

@Suite struct PeerTransportTests {
    @Test func twoNodesExchangeFramesBothWays() async throws {
        try await withCluster(standardCluster(2)) { nodes async throws in
            let (one, two) = (nodes[0], nodes[1])
            #expect(try await eventually { try await fullyConnected(nodes) })
            for index in 0..<200 {
                #expect(try await one.send([1, UInt8(index)], to: 2) == .queued)
                #expect(try await two.send([2, UInt8(index), 0, 0], to: 1) == .queued)
            }
            #expect(await eventually { two.payloads(from: 1).count == 200 && one.payloads(from: 2).count == 200 })
            #expect(two.payloads(from: 1) == (0..<200).map { [1, UInt8($0)] })
            #expect(one.payloads(from: 2) == (0..<200).map { [2, UInt8($0), 0, 0] })
            let sent = try await one.statistics(of: 2)
            let got = try await two.statistics(of: 1)
            #expect(sent.framesSent == 200 && got.framesReceived == 200 && sent.bytesSent == got.bytesReceived)
            #expect(sent.connections == 1 && got.connections == 1)
        }
    }

    /// Three members: each pair has exactly one connection (the lower id dialled), and every
    /// member reaches every other.
    @Test func threeNodesFormOneConnectionPerPair() async throws {
        try await withCluster(standardCluster(3)) { nodes async throws in
            #expect(try await eventually { try await fullyConnected(nodes) })
            for node in nodes {
                for other in nodes where other.id != node.id {
                    #expect(try await node.send([UInt8(node.id.rawValue), UInt8(other.id.rawValue)], to: other.id.rawValue) == .queued)
                }
            }
            #expect(await eventually { nodes.allSatisfy { $0.received.values.count == 2 } })
            for node in nodes {
                for other in nodes where other.id != node.id {
                    #expect(node.payloads(from: other.id.rawValue) == [[UInt8(other.id.rawValue), UInt8(node.id.rawValue)]])
                    #expect(try await node.statistics(of: other.id.rawValue).connections == 1)
                }
            }
            #expect(nodes.allSatisfy { !$0.events.values.contains { if case .refused = $0 { true } else { false } } })
        }
    }

    /// The higher id (the acceptor) restarts on its port: the lower redials with back-off. Then the
    /// lower (the dialer) restarts: it dials at once and the acceptor takes the new connection.
    @Test func linksComeBackAfterEitherSideRestarts() async throws {
        try await withCluster(standardCluster(2)) { nodes async throws in
            let (one, two) = (nodes[0], nodes[1])
            #expect(try await eventually { try await fullyConnected(nodes) })
            let twoAddress = try await two.address
            let oneAddress = try await one.address

            try await two.close()
            #expect(try await eventually { try await !one.isConnected(to: 2) })
            #expect(try await one.send([9], to: 2) == .peerDown)
            #expect(try await one.statistics(of: 2).droppedPeerDown == 1)
            try await two.open(TestNode.configuration(2, of: 2, port: twoAddress.port))
            try await two.start([:])
            #expect(try await eventually { try await fullyConnected(nodes) })
            #expect(try await one.send([1], to: 2) == .queued)
            #expect(await eventually { two.payloads(from: 1) == [[1]] })

            try await one.close()
            try await one.open(TestNode.configuration(1, of: 2, port: oneAddress.port))
            try await one.start([NodeID(2): twoAddress])
            #expect(try await eventually { try await fullyConnected(nodes) })
            #expect(try await one.send([2], to: 2) == .queued)
            #expect(await eventually { two.payloads(from: 1) == [[1], [2]] })
            #expect(try await one.statistics(of: 2).connections == 1)
        }
    }

    @Test func aPeerWithTheWrongSecretIsRefused() async throws {
        var configurations = standardCluster(2)
        configurations[1].secret = Array("another secret of enough bytes!!".utf8)
        try await withCluster(configurations) { nodes async throws in
            let (one, two) = (nodes[0], nodes[1])
            // The dialer finds the acceptor's code wrong and hangs up; it retries with back-off.
            #expect(await eventually { one.events.values.filter { $0.isRefusal(.badProof) }.count >= 2 })
            #expect(two.events.values.contains { if case .refused(_, NodeID(1)?, .connectionLost) = $0 { true } else { false } })
            #expect(try await !one.isConnected(to: 2))
            #expect(try await !two.isConnected(to: 1))
            #expect(try await one.send([1], to: 2) == .peerDown)
            #expect(two.received.values.isEmpty)
        }
    }

    @Test func aPeerOfAnotherClusterIsRefused() async throws {
        var configurations = standardCluster(2)
        configurations[0].clusterID = 7
        try await withCluster(configurations) { nodes async throws in
            #expect(await eventually { nodes[1].events.values.contains { $0.isRefusal(.wrongCluster(7)) } })
            #expect(try await !nodes[0].isConnected(to: 2))
            #expect(try await !nodes[1].isConnected(to: 1))
        }
    }

    @Test func sendingToANonMemberOrSendingNonFramesIsRefused() async throws {
        try await withCluster(standardCluster(2)) { nodes async throws in
            #expect(try await nodes[0].on { $0.send(WireFrame(protocolName: "t", content: .message, payload: []), to: NodeID(5)) } == .notAPeer)
            #expect(try await nodes[0].on { $0.send(WireFrame(protocolName: "t", content: .message, payload: []), to: NodeID(1)) } == .notAPeer)
            #expect(try await nodes[0].on { $0.send([1, 2, 3], to: NodeID(2)) } == .malformedFrame)
            #expect(try await nodes[0].send([UInt8](repeating: 0, count: 1 << 20), to: 2) == .malformedFrame)
        }
    }

    @Test func closingReleasesEveryDescriptor() async throws {
        try await withCluster(standardCluster(3)) { nodes async throws in
            #expect(try await eventually { try await fullyConnected(nodes) })
            for node in nodes {
                try await node.close()
                #expect(try await node.loop.submit { node.loop.registeredCount } == 0)
            }
        }
    }
}

extension PeerTransport.Event {
    func isRefusal(_ failure: HandshakeFailure) -> Bool {
        if case .refused(_, _, failure) = self { true } else { false }
    }
}
