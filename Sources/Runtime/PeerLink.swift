import ConsensusCore
import Glibc

/// One connection between two members: the handshake, then the peer's frames. Owned by its
/// `PeerTransport`, which it tells when it is established, what it received and how it ended.
final class PeerLink {
    /// How a link ended, in the transport's terms.
    enum End {
        /// A dial that never connected (refused, unreachable, timed out).
        case unreachable(TCPConnection.CloseReason)
        /// Connected, but the handshake failed.
        case refused(HandshakeFailure)
        /// An established link ended.
        case disconnected(PeerTransport.DisconnectReason)
    }

    let connection: TCPConnection
    private var handshake: Handshake
    private var reader: FrameReader
    private(set) var isEstablished = false
    private var isConnected: Bool
    private var hasEnded = false
    private var timeout: TimerID?
    private weak var owner: PeerTransport?

    /// The member at the other end: known from the start when dialling, from the hello when accepting.
    var peer: NodeID? { handshake.peer }

    /// A dialled connection: sends `hello` once connected.
    convenience init(dialing connection: TCPConnection, handshake: Handshake, hello: [UInt8], owner: PeerTransport) {
        self.init(connection: connection, handshake: handshake, connected: false, owner: owner)
        connection.onConnect = { [weak self] in
            guard let self else { return }
            self.isConnected = true
            _ = self.connection.write(hello)
        }
    }

    /// An accepted connection, waiting for a hello.
    convenience init(accepted connection: TCPConnection, handshake: Handshake, owner: PeerTransport) {
        self.init(connection: connection, handshake: handshake, connected: true, owner: owner)
    }

    private init(connection: TCPConnection, handshake: Handshake, connected: Bool, owner: PeerTransport) {
        self.connection = connection
        self.handshake = handshake
        self.reader = FrameReader(maximumFrameBytes: owner.configuration.maximumFrameBytes)
        self.isConnected = connected
        self.owner = owner
        connection.onRead = { [weak self] bytes in self?.ingest(bytes) }
        connection.onClose = { [weak self] reason in self?.connectionClosed(reason) }
        timeout = connection.loop.schedule(after: owner.configuration.handshakeTimeout) { [weak self] in self?.timedOut() }
    }

    /// Closes the link without telling the owner (the owner decided).
    func close() {
        hasEnded = true
        cancelTimeout()
        connection.close()
    }

    // MARK: Input

    private func ingest(_ bytes: UnsafeRawBufferPointer) {
        var rest = bytes[...]
        while !isEstablished {
            guard !rest.isEmpty else { return }
            do throws(HandshakeFailure) {
                let (progress, consumed) = try handshake.receive(UnsafeRawBufferPointer(rebasing: rest))
                rest = rest.dropFirst(consumed)
                switch progress {
                case .waiting: return
                case .reply(let message): _ = connection.write(message)
                case .established(_, let reply):
                    if let reply { _ = connection.write(reply) }
                    establish()
                    guard connection.state == .open else { return }
                }
            } catch {
                return end(.refused(error))
            }
        }
        guard !rest.isEmpty else { return }
        do throws(FrameError) {
            try reader.read(UnsafeRawBufferPointer(rebasing: rest)) { frame in
                owner?.link(self, received: frame)
                return connection.state == .open
            }
        } catch {
            end(.disconnected(.malformedFrame(error)))
        }
    }

    private func establish() {
        isEstablished = true
        cancelTimeout()
        owner?.linkEstablished(self)
    }

    // MARK: Ends

    private func connectionClosed(_ reason: TCPConnection.CloseReason) {
        if isEstablished {
            end(.disconnected(.closed(reason)))
        } else if isConnected {
            end(.refused(.connectionLost(reason)))
        } else {
            end(.unreachable(reason))
        }
    }

    private func timedOut() {
        timeout = nil
        guard isConnected else {
            return end(.unreachable(.failed(SystemError("connect to \(connection.peer)", errno: ETIMEDOUT))))
        }
        end(.refused(.timedOut))
    }

    private func end(_ end: End) {
        guard !hasEnded else { return }
        close()
        owner?.link(self, ended: end)
    }

    private func cancelTimeout() {
        guard let timeout else { return }
        connection.loop.cancel(timeout)
        self.timeout = nil
    }
}
