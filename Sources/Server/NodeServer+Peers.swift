import ConsensusCore
import Runtime

/// The node's authenticated links to the other members, carrying the backend's messages and
/// forwarded client requests and answers as `WireFrame`s.
extension NodeServer {
    func openPeers() throws {
        let transport = try PeerTransport(
            configuration: PeerTransport.Configuration(node: id, members: configuration.memberIDs, clusterID: configuration.clusterID,
                                                       secret: configuration.secret, listenAddress: member.peer),
            loop: loop)
        transport.onReceive = { [weak self] frame, sender in self?.receive(frame, from: sender) }
        transport.onEvent = { [weak self] event in self?.peerEvent(event) }
        var addresses: [NodeID: SocketAddress] = [:]
        for other in configuration.members { addresses[other.id] = other.peer }
        transport.start(addresses: addresses)
        self.transport = transport
    }

    /// A frame from an authenticated member. One that does not decode, or belongs to another
    /// protocol (a member started with another backend), is dropped and logged: the link stays.
    private func receive(_ bytes: [UInt8], from sender: NodeID) {
        guard isRunning else { return }
        do throws(BinaryDecodingError) {
            let frame = try WireFrame(decoding: bytes)
            switch frame.content {
            case .message:
                let message = try frame.message(of: Backend.self)
                if !faults.armed.isEmpty { stopIfTriggered(.received(kind: message.kind.rawValue)) }
                submit(.receive(from: sender, message: message))
            case .clientRequest:
                accept(try frame.decode(ClientRequest.self, protocolName: Backend.protocolName, content: .clientRequest), forwardedBy: sender)
            case .clientReply:
                route(try frame.decode(ClientReply.self, protocolName: Backend.protocolName, content: .clientReply), from: sender)
            case .snapshot, .event:
                log.write("dropped a \(frame.content) frame from \(sender): nodes do not exchange those")
            }
        } catch {
            log.write("dropped a frame from \(sender): \(error)")
        }
    }

    private func peerEvent(_ event: PeerTransport.Event) {
        switch event {
        case .connected(let peer):
            unreachableReported.remove(peer)
        case .disconnected(let peer, let reason):
            if reason != .replaced { router.lost(peer, at: MonotonicClock.now()) }
        case .unreachable(let peer, _, _):
            guard unreachableReported.insert(peer).inserted else { return }
        case .refused, .acceptFailed:
            break
        }
        log.write("\(event)")
        armRouterTimer()
    }
}
