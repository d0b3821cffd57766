import ConsensusCore
@testable import Runtime
import Testing

/// The handshake as a pure state machine: two sides exchanging byte arrays, no sockets.
@Suite struct HandshakeTests {
    static func credentials(_ node: Int, cluster: UInt64 = 1, secret: String = "the shared cluster secret") -> HandshakeCredentials {
        HandshakeCredentials(clusterID: cluster, node: NodeID(node), members: Set(NodeID.cluster(3)), mac: HMACSHA256(key: Array(secret.utf8)))
    }

    static func nonce(_ byte: UInt8) -> [UInt8] { [UInt8](repeating: byte, count: Handshake.nonceBytes) }

    /// Feeds `bytes` whole.
    static func feed(_ handshake: inout Handshake, _ bytes: [UInt8]) throws(HandshakeFailure) -> Handshake.Progress {
        let result = bytes.withUnsafeBytes { buffer in Result { () throws(HandshakeFailure) in try handshake.receive(buffer) } }
        let (progress, consumed) = try result.get()
        #expect(consumed == bytes.count)
        return progress
    }

    @Test func bothSidesAuthenticateInThreeMessages() throws {
        var (dialer, hello) = Handshake.dial(NodeID(2), credentials: Self.credentials(1), nonce: Self.nonce(1))
        var acceptor = Handshake.accept(credentials: Self.credentials(2), nonce: Self.nonce(2))
        #expect(hello.count == Handshake.helloBytes)
        guard case .reply(let challenge) = try Self.feed(&acceptor, hello) else { Issue.record("no challenge"); return }
        #expect(challenge.count == Handshake.challengeBytes)
        #expect(acceptor.peer == NodeID(1))
        guard case .established(NodeID(2), let proof?) = try Self.feed(&dialer, challenge) else { Issue.record("dialer not established"); return }
        #expect(try Self.feed(&acceptor, proof) == .established(NodeID(1), reply: nil))
    }

    /// The hello's layout, byte for byte (the documented wire format).
    @Test func theHelloIsMagicVersionClusterSenderReceiverNonce() {
        let (_, hello) = Handshake.dial(NodeID(3), credentials: Self.credentials(1, cluster: 0x0102), nonce: Self.nonce(0xAB))
        var expected: [UInt8] = Array("CLAB".utf8) + [WireFrame.version]
        expected += [0x02, 0x01, 0, 0, 0, 0, 0, 0] + [1, 0, 0, 0, 0, 0, 0, 0] + [3, 0, 0, 0, 0, 0, 0, 0]
        expected += Self.nonce(0xAB)
        #expect(hello == expected)
    }

    /// Bytes split anywhere still complete the handshake, and bytes after the proof are left over.
    @Test func messagesMayArriveInPiecesAndFramesMayFollowTheProof() throws {
        var (dialer, hello) = Handshake.dial(NodeID(2), credentials: Self.credentials(1), nonce: Self.nonce(1))
        var acceptor = Handshake.accept(credentials: Self.credentials(2), nonce: Self.nonce(2))
        for byte in hello.dropLast() { #expect(try Self.feed(&acceptor, [byte]) == .waiting) }
        guard case .reply(let challenge) = try Self.feed(&acceptor, [hello.last!]) else { Issue.record("no challenge"); return }
        guard case .established(_, let proof?) = try Self.feed(&dialer, challenge) else { Issue.record("no proof"); return }
        let stream = proof + [0xEE, 0xFF]
        let (progress, consumed) = try stream.withUnsafeBytes { try acceptor.receive($0) }
        #expect(progress == .established(NodeID(1), reply: nil))
        #expect(consumed == proof.count)
    }

    @Test func theWrongSecretFailsOnBothSides() throws {
        var (dialer, hello) = Handshake.dial(NodeID(2), credentials: Self.credentials(1, secret: "mallory's guess at the secret"), nonce: Self.nonce(1))
        var acceptor = Handshake.accept(credentials: Self.credentials(2), nonce: Self.nonce(2))
        guard case .reply(let challenge) = try Self.feed(&acceptor, hello) else { Issue.record("no challenge"); return }
        #expect(throws: HandshakeFailure.badProof) { try Self.feed(&dialer, challenge) }
        // A dialer that sends a proof anyway (it cannot compute the right one) is refused too.
        #expect(throws: HandshakeFailure.badProof) { try Self.feed(&acceptor, [UInt8](repeating: 0, count: Handshake.proofBytes)) }
    }

    /// The acceptor's own code, sent back as the dialer's proof, does not pass: the roles are labelled.
    @Test func aReflectedCodeIsNotAProof() throws {
        let (_, hello) = Handshake.dial(NodeID(2), credentials: Self.credentials(1), nonce: Self.nonce(1))
        var acceptor = Handshake.accept(credentials: Self.credentials(2), nonce: Self.nonce(2))
        guard case .reply(let challenge) = try Self.feed(&acceptor, hello) else { Issue.record("no challenge"); return }
        #expect(throws: HandshakeFailure.badProof) { try Self.feed(&acceptor, Array(challenge.suffix(HMACSHA256.codeSize))) }
    }

    @Test func helloChecks() throws {
        func refusal(_ hello: [UInt8], at node: Int = 2) -> HandshakeFailure? {
            var acceptor = Handshake.accept(credentials: Self.credentials(node), nonce: Self.nonce(2))
            do {
                _ = try Self.feed(&acceptor, hello)
                return nil
            } catch {
                return error
            }
        }
        let (_, hello) = Handshake.dial(NodeID(2), credentials: Self.credentials(1), nonce: Self.nonce(1))
        var badMagic = hello
        badMagic[0] = UInt8(ascii: "G")
        #expect(refusal(badMagic) == .badMagic)
        var badVersion = hello
        badVersion[4] = 2
        #expect(refusal(badVersion) == .unsupportedVersion(2))
        #expect(refusal(Handshake.dial(NodeID(2), credentials: Self.credentials(1, cluster: 9), nonce: Self.nonce(1)).hello) == .wrongCluster(9))
        #expect(refusal(hello, at: 3) == .misaddressed(expected: NodeID(3), actual: NodeID(2)))
        #expect(refusal(Handshake.dial(NodeID(2), credentials: Self.credentials(3), nonce: Self.nonce(1)).hello) == .wrongDirection(NodeID(3)))
        var stranger = hello
        stranger[13] = 7
        #expect(refusal(stranger) == .unknownNode(7))
        #expect(refusal(Handshake.dial(NodeID(2), credentials: Self.credentials(2), nonce: Self.nonce(1)).hello) == .unknownNode(2))
    }

    @Test func theDialerChecksWhoAnswered() throws {
        let (_, hello) = Handshake.dial(NodeID(3), credentials: Self.credentials(1), nonce: Self.nonce(1))
        var acceptor = Handshake.accept(credentials: Self.credentials(3), nonce: Self.nonce(2))
        guard case .reply(let challenge) = try Self.feed(&acceptor, hello) else { Issue.record("no challenge"); return }
        // The dialer meant to reach 2, but the address it was given is 3's.
        var (dialer, _) = Handshake.dial(NodeID(2), credentials: Self.credentials(1), nonce: Self.nonce(1))
        #expect(throws: HandshakeFailure.misaddressed(expected: NodeID(2), actual: NodeID(3))) { try Self.feed(&dialer, challenge) }
    }
}
