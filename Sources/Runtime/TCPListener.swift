import ConsensusCore
import Glibc

/// A listening TCP socket on an event loop, handing each accepted connection to `onAccept`.
///
/// `SO_REUSEADDR` is set, so a node that restarts can bind its port again while connections of its
/// previous life linger in TIME_WAIT. Confined to its loop's thread.
public final class TCPListener: IOHandler, @unchecked Sendable {
    /// Connections accepted per readiness report, so a flood of connects cannot stall the loop.
    private static let acceptsPerWakeUp = 64
    /// How long accepting pauses when the process is out of descriptors or memory: the listener
    /// stays readable while the connection waits in the backlog, and a level-triggered loop would
    /// otherwise spin on it.
    private static let pauseAfterResourceError = TimeSpan.milliseconds(100)

    public let loop: EventLoop
    /// The address bound, with the port the kernel chose when asked for port 0.
    public let address: SocketAddress
    /// The output limit of each accepted connection.
    public let connectionOutputLimit: Int
    public var onAccept: ((TCPConnection) -> Void)?
    /// An `accept` failed (the listener keeps listening).
    public var onAcceptFailure: ((SystemError) -> Void)?

    private let fd: Int32
    private var isOpen = true

    public init(loop: EventLoop, address: SocketAddress, backlog: Int32 = 128, connectionOutputLimit: Int) throws(SystemError) {
        loop.preconditionInLoop()
        let fd = try Socket.tcp()
        do throws(SystemError) {
            try Socket.enable(SO_REUSEADDR, level: SOL_SOCKET, on: fd, "SO_REUSEADDR")
            guard address.withSocketAddress({ bind(fd, $0, $1) }) == 0 else { throw SystemError.last("bind \(address)") }
            guard listen(fd, backlog) == 0 else { throw SystemError.last("listen on \(address)") }
            self.address = try SocketAddress.local(of: fd)
        } catch {
            Glibc.close(fd)
            throw error
        }
        self.loop = loop
        self.fd = fd
        self.connectionOutputLimit = connectionOutputLimit
        do throws(SystemError) {
            try loop.register(fd, interest: .readable, handler: self)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    public func handle(_ events: IOEvents) {
        for _ in 0..<Self.acceptsPerWakeUp {
            guard isOpen, let connection = acceptOne() else { return }
            onAccept?(connection)
        }
    }

    /// The next waiting connection, or nil when none waits (or accepting paused after an error).
    private func acceptOne() -> TCPConnection? {
        while true {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let client = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(fd, $0, &length) }
            }
            guard client < 0 else {
                let peer = SocketAddress(ipv4: address.sin_addr.s_addr, port: UInt16(bigEndian: address.sin_port))
                do throws(SystemError) {
                    return try TCPConnection.accepted(fd: client, peer: peer, on: loop, outputLimit: connectionOutputLimit)
                } catch {
                    onAcceptFailure?(error)
                    continue
                }
            }
            switch errno {
            case EAGAIN, EWOULDBLOCK: return nil
            // The client gave up before we took it, or a signal: try the next.
            case EINTR, ECONNABORTED: continue
            default:
                onAcceptFailure?(.last("accept on \(self.address)"))
                pauseAccepting()
                return nil
            }
        }
    }

    private func pauseAccepting() {
        do throws(SystemError) {
            try loop.setInterest([], for: fd)
        } catch {
            onAcceptFailure?(error)
        }
        loop.schedule(after: Self.pauseAfterResourceError) { [weak self] in
            guard let self, self.isOpen else { return }
            do throws(SystemError) {
                try self.loop.setInterest(.readable, for: self.fd)
            } catch {
                self.onAcceptFailure?(error)
            }
        }
    }

    public func close() {
        loop.preconditionInLoop()
        loopIsShuttingDown()
    }

    public func loopIsShuttingDown() {
        guard isOpen else { return }
        isOpen = false
        loop.deregister(fd)
        Glibc.close(fd)
        onAccept = nil
        onAcceptFailure = nil
    }
}
