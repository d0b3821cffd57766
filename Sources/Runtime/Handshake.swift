import ConsensusCore

/// Why a connection was refused before it carried any frame.
public enum HandshakeFailure: Error, Hashable, Sendable, CustomStringConvertible {
    /// Not a ConsensusLab peer: a stray process, a port scanner, a client on the wrong port.
    case badMagic
    case unsupportedVersion(UInt8)
    case wrongCluster(UInt64)
    /// The sender is not a member of this cluster (or claims to be this node).
    case unknownNode(Int)
    /// A member dialled that must wait to be dialled: the lower id dials.
    case wrongDirection(NodeID)
    /// The node reached is not the one dialled, or the hello was meant for another node: a
    /// configuration that maps ids to the wrong addresses.
    case misaddressed(expected: NodeID, actual: NodeID)
    /// The peer's code does not prove the cluster secret.
    case badProof
    case timedOut
    /// The connection ended before the handshake did.
    case connectionLost(TCPConnection.CloseReason)

    public var description: String {
        switch self {
        case .badMagic: "not a ConsensusLab peer (bad magic)"
        case .unsupportedVersion(let version): "wire format version \(version) (this build speaks \(WireFrame.version))"
        case .wrongCluster(let cluster): "cluster \(cluster) is not this cluster"
        case .unknownNode(let raw): "node id \(raw) is not a member of this cluster"
        case .wrongDirection(let peer): "\(peer) dialled, but the lower id dials"
        case .misaddressed(let expected, let actual): "reached \(actual), expected \(expected)"
        case .badProof: "the peer's proof does not match the cluster secret"
        case .timedOut: "the handshake timed out"
        case .connectionLost(let reason): "the connection ended during the handshake: \(reason)"
        }
    }
}

/// What a node proves and checks in a handshake.
struct HandshakeCredentials: Sendable {
    let clusterID: UInt64
    let node: NodeID
    let members: Set<NodeID>
    let mac: HMACSHA256
}

/// The mutual challenge–response that opens every peer connection, as a pure state machine: bytes
/// in, bytes to send and a verdict out, no sockets (the transport feeds it).
///
/// Three messages; integers little-endian as everywhere in the lab's encodings:
///
///     hello      dialer → acceptor    61 bytes
///       magic "CLAB" (4) · version u8 · cluster u64 · sender u64 · receiver u64 · nonce (32)
///     challenge  acceptor → dialer    93 bytes
///       the same fields from the acceptor's side, with its own nonce · code (32)
///         code = HMAC(secret, "conlab acceptor" · hello · challenge fields)
///     proof      dialer → acceptor    32 bytes
///         code = HMAC(secret, "conlab dialer" · hello · challenge fields)
///
/// Each code covers both nonces, so neither can be replayed from an earlier connection, and each
/// side's fresh nonce makes the other side prove the secret now; the role labels keep a code from
/// being reflected back as the other role's. Version, cluster and both ids are in the covered bytes,
/// so nothing can be altered in flight. The dialer may send frames right behind its proof: if the
/// acceptor refuses the proof it closes without reading them.
struct Handshake {
    enum Role {
        case dialer(expecting: NodeID)
        case acceptor
    }

    enum Progress: Equatable {
        /// More bytes are needed.
        case waiting
        /// Send these and wait for more.
        case reply([UInt8])
        /// The peer is authenticated; send `reply` (the dialer's proof) first, if any.
        case established(NodeID, reply: [UInt8]?)
    }

    static let magic: [UInt8] = Array("CLAB".utf8)
    static let nonceBytes = 32
    static let helloBytes = 4 + 1 + 8 + 8 + 8 + nonceBytes
    static let challengeBytes = helloBytes + HMACSHA256.codeSize
    static let proofBytes = HMACSHA256.codeSize

    private let role: Role
    private let credentials: HandshakeCredentials
    private let nonce: [UInt8]
    /// The hello, then the challenge's fields: what the codes cover.
    private var transcript: [UInt8] = []
    private var received: [UInt8] = []
    /// The dialled node for a dialer; for an acceptor, the sender of the hello once it arrived.
    private(set) var peer: NodeID?
    private var isFinished = false

    /// The dialer's side and its hello, to send once connected.
    static func dial(_ peer: NodeID, credentials: HandshakeCredentials, nonce: [UInt8]) -> (Handshake, hello: [UInt8]) {
        var handshake = Handshake(role: .dialer(expecting: peer), credentials: credentials, nonce: nonce)
        handshake.peer = peer
        let hello = handshake.fields(to: peer)
        handshake.transcript = hello
        return (handshake, hello)
    }

    /// The acceptor's side, waiting for a hello.
    static func accept(credentials: HandshakeCredentials, nonce: [UInt8]) -> Handshake {
        Handshake(role: .acceptor, credentials: credentials, nonce: nonce)
    }

    private init(role: Role, credentials: HandshakeCredentials, nonce: [UInt8]) {
        precondition(nonce.count == Self.nonceBytes, "a handshake nonce is \(Self.nonceBytes) bytes")
        self.role = role
        self.credentials = credentials
        self.nonce = nonce
    }

    /// Takes bytes from the start of `bytes`, up to the end of the message it is waiting for, and
    /// says how far it got and how many bytes it took; bytes after an established handshake are the
    /// peer's first frames.
    mutating func receive(_ bytes: UnsafeRawBufferPointer) throws(HandshakeFailure) -> (Progress, consumed: Int) {
        precondition(!isFinished, "the handshake is over")
        let expected = expectedBytes
        let taken = min(expected - received.count, bytes.count)
        received.append(contentsOf: bytes.prefix(taken))
        guard received.count == expected else { return (.waiting, taken) }
        let message = received
        received.removeAll()
        switch (role, peer) {
        case (.acceptor, nil): return (try acceptHello(message), taken)
        case (.acceptor, let dialer?): return (try checkProof(message, from: dialer), taken)
        case (.dialer(let acceptor), _): return (try answerChallenge(message, from: acceptor), taken)
        }
    }

    private var expectedBytes: Int {
        switch (role, peer) {
        case (.acceptor, nil): Self.helloBytes
        case (.acceptor, _?): Self.proofBytes
        case (.dialer, _): Self.challengeBytes
        }
    }

    // MARK: Steps

    private mutating func acceptHello(_ hello: [UInt8]) throws(HandshakeFailure) -> Progress {
        let header = try checkFields(hello)
        guard let dialer = member(header.sender) else { throw .unknownNode(header.sender) }
        guard header.receiver == credentials.node.rawValue else { throw .misaddressed(expected: credentials.node, actual: NodeID(header.receiver)) }
        guard dialer < credentials.node else { throw .wrongDirection(dialer) }
        peer = dialer
        let challenge = fields(to: dialer)
        transcript = hello + challenge
        return .reply(challenge + code(role: "conlab acceptor"))
    }

    private mutating func answerChallenge(_ challenge: [UInt8], from acceptor: NodeID) throws(HandshakeFailure) -> Progress {
        let header = try checkFields(Array(challenge.prefix(Self.helloBytes)))
        guard header.sender == acceptor.rawValue else { throw .misaddressed(expected: acceptor, actual: NodeID(header.sender)) }
        guard header.receiver == credentials.node.rawValue else { throw .misaddressed(expected: credentials.node, actual: NodeID(header.receiver)) }
        transcript += challenge.prefix(Self.helloBytes)
        guard isValid(Array(challenge.suffix(HMACSHA256.codeSize)), role: "conlab acceptor") else { throw .badProof }
        isFinished = true
        return .established(acceptor, reply: code(role: "conlab dialer"))
    }

    private mutating func checkProof(_ proof: [UInt8], from dialer: NodeID) throws(HandshakeFailure) -> Progress {
        guard isValid(proof, role: "conlab dialer") else { throw .badProof }
        isFinished = true
        return .established(dialer, reply: nil)
    }

    // MARK: Fields

    /// A hello's fields before its nonce (the challenge starts with the same); the nonce matters
    /// only as part of the transcript.
    private struct Header {
        var magic: [UInt8]
        var version: UInt8
        var cluster: UInt64
        var sender: Int
        var receiver: Int

        /// `bytes` is a whole hello, so no read can run short.
        init(_ bytes: [UInt8]) {
            var reader = ByteReader(bytes)
            do throws(BinaryDecodingError) {
                magic = Array(try reader.readSlice(count: Handshake.magic.count))
                version = try reader.readByte()
                cluster = try reader.readUInt64()
                sender = try reader.readInt()
                receiver = try reader.readInt()
            } catch {
                preconditionFailure("a handshake message of fixed length read short: \(error)")
            }
        }
    }

    /// This side's hello fields, addressed to `peer`.
    private func fields(to peer: NodeID) -> [UInt8] {
        var writer = ByteWriter(capacity: Self.helloBytes)
        for byte in Self.magic { writer.write(byte) }
        writer.write(WireFrame.version)
        writer.write(credentials.clusterID)
        writer.write(credentials.node)
        writer.write(peer)
        for byte in nonce { writer.write(byte) }
        return writer.bytes
    }

    /// Checks magic, version and cluster of a hello's fields and returns them.
    private func checkFields(_ bytes: [UInt8]) throws(HandshakeFailure) -> Header {
        let header = Header(bytes)
        guard header.magic == Self.magic else { throw .badMagic }
        guard header.version == WireFrame.version else { throw .unsupportedVersion(header.version) }
        guard header.cluster == credentials.clusterID else { throw .wrongCluster(header.cluster) }
        return header
    }

    private func member(_ raw: Int) -> NodeID? {
        let id = NodeID(raw)
        return credentials.members.contains(id) && id != credentials.node ? id : nil
    }

    /// The code a side in role `label` sends: over the label and the transcript so far.
    private func code(role label: String) -> [UInt8] {
        credentials.mac.code(for: Array(label.utf8) + transcript)
    }

    private func isValid(_ code: [UInt8], role label: String) -> Bool {
        credentials.mac.isValid(code, for: Array(label.utf8) + transcript)
    }
}
