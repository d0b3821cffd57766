import Glibc

/// A non-blocking TCP connection on an event loop, with a byte-bounded output queue.
///
/// Confined to its loop's thread. Reads go into the loop's shared buffer and are lent to `onRead`
/// for the length of the call. Writes are queued and flushed at the end of the loop's turn, so the
/// messages of one turn leave together; a write that does not fit under `outputLimit` is refused
/// (`.queueFull`) and the caller decides what to drop. `onClose` reports a close the connection
/// suffered (end of stream, an error); closing it yourself with `close()` reports nothing, so an
/// owner never hears of its own decision re-entrantly.
public final class TCPConnection: IOHandler, FlushTarget, @unchecked Sendable {
    public enum State: Sendable { case connecting, open, closed }

    /// Why a connection closed on its own.
    public enum CloseReason: Error, Hashable, Sendable, CustomStringConvertible {
        /// The peer closed its side.
        case endOfStream
        case failed(SystemError)

        public var description: String {
            switch self {
            case .endOfStream: "closed by the peer"
            case .failed(let error): error.description
            }
        }
    }

    public enum WriteOutcome: Hashable, Sendable {
        case queued
        /// Refused whole: it would take the queue past `outputLimit`.
        case queueFull
        case closed
    }

    /// Reads per readiness report: a peer sending without pause cannot keep the loop from others.
    private static let readsPerWakeUp = 4

    public let loop: EventLoop
    /// The peer's address (the one dialled, or the one accepted from).
    public let peer: SocketAddress
    public private(set) var state: State
    /// Bytes queued and not yet handed to the kernel.
    public var queuedBytes: Int { output.count }

    /// The connection is established (dialled connections only; accepted ones start open).
    public var onConnect: (() -> Void)?
    /// Bytes arrived; valid only during the call.
    public var onRead: ((UnsafeRawBufferPointer) -> Void)?
    public var onClose: ((CloseReason) -> Void)?

    let fd: Int32
    private var output: OutputBuffer
    private var flushScheduled = false
    /// Set by `closeAfterFlush()`: close once the output is handed to the kernel.
    private var closesWhenFlushed = false

    private init(loop: EventLoop, fd: Int32, peer: SocketAddress, state: State, outputLimit: Int) {
        self.loop = loop
        self.fd = fd
        self.peer = peer
        self.state = state
        output = OutputBuffer(limit: outputLimit)
    }

    /// Starts connecting to `address`; `onConnect` or `onClose` tells how it ended, on a later turn,
    /// so the caller sets its callbacks first. Throws when the attempt fails at once.
    public static func connect(to address: SocketAddress, on loop: EventLoop, outputLimit: Int) throws(SystemError) -> TCPConnection {
        loop.preconditionInLoop()
        let fd = try Socket.tcp()
        do throws(SystemError) {
            try Socket.disableNagle(fd)
            let result = address.withSocketAddress { Glibc.connect(fd, $0, $1) }
            guard result == 0 || errno == EINPROGRESS else { throw SystemError.last("connect to \(address)") }
            let connection = TCPConnection(loop: loop, fd: fd, peer: address, state: .connecting, outputLimit: outputLimit)
            // Writable means connected or failed, even when connect() already succeeded.
            try loop.register(fd, interest: .writable, handler: connection)
            return connection
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// Wraps a descriptor `accept` returned.
    static func accepted(fd: Int32, peer: SocketAddress, on loop: EventLoop, outputLimit: Int) throws(SystemError) -> TCPConnection {
        let connection = TCPConnection(loop: loop, fd: fd, peer: peer, state: .open, outputLimit: outputLimit)
        do throws(SystemError) {
            try Socket.makeNonBlocking(fd)
            try Socket.disableNagle(fd)
            try loop.register(fd, interest: .readable, handler: connection)
        } catch {
            Glibc.close(fd)
            throw error
        }
        return connection
    }

    // MARK: Writing

    public func write(_ bytes: [UInt8]) -> WriteOutcome {
        bytes.withUnsafeBytes { write($0) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) -> WriteOutcome {
        loop.preconditionInLoop()
        guard state != .closed else { return .closed }
        guard output.append(bytes) else { return .queueFull }
        if !flushScheduled && state == .open {
            flushScheduled = true
            loop.scheduleFlush(self)
        }
        return .queued
    }

    /// Hands the kernel what it takes; asks for write readiness while anything remains.
    func flush() {
        flushScheduled = false
        guard state == .open else { return }
        while !output.isEmpty {
            let sent = output.withUnsent { Socket.send(fd, $0) }
            if sent >= 0 {
                output.consume(sent)
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                break
            } else if errno != EINTR {
                return fail(.failed(.last("send to \(peer)")))
            }
        }
        if closesWhenFlushed && output.isEmpty { return release() }
        watch(output.isEmpty ? .readable : [.readable, .writable])
    }

    // MARK: Readiness

    public func handle(_ events: IOEvents) {
        switch state {
        case .connecting:
            finishConnecting()
        case .open:
            if !events.isDisjoint(with: [.readable, .readHangUp, .hangUp, .error]) { readAvailable() }
            if state == .open && events.contains(.writable) { flush() }
        case .closed:
            break
        }
    }

    private func finishConnecting() {
        let error = Socket.pendingError(fd)
        guard error == 0 else { return fail(.failed(SystemError("connect to \(peer)", errno: error))) }
        state = .open
        watch(output.isEmpty ? .readable : [.readable, .writable])
        guard state == .open else { return }
        onConnect?()
    }

    private func readAvailable() {
        let buffer = loop.readBuffer
        for _ in 0..<Self.readsPerWakeUp {
            let count = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if count > 0 {
                onRead?(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                // The callback may have closed the connection; a short read drained the socket.
                guard state == .open, count == buffer.count else { return }
            } else if count == 0 {
                return fail(.endOfStream)
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                return
            } else if errno != EINTR {
                return fail(.failed(.last("read from \(peer)")))
            }
        }
    }

    private func watch(_ interest: IOInterest) {
        do {
            try loop.setInterest(interest, for: fd)
        } catch {
            fail(.failed(error))
        }
    }

    // MARK: Closing

    /// Closes once the queued output is handed to the kernel (a server's last reply before it
    /// hangs up: `QUIT`, a protocol error); reads stop now. `onClose` is not called.
    public func closeAfterFlush() {
        loop.preconditionInLoop()
        guard state != .closed else { return }
        closesWhenFlushed = true
        onRead = nil
        onClose = nil
        if output.isEmpty || state == .connecting { return release() }
        if !flushScheduled {
            flushScheduled = true
            loop.scheduleFlush(self)
        }
    }

    /// Closes at once, dropping queued output; `onClose` is not called.
    public func close() {
        loop.preconditionInLoop()
        release()
    }

    public func loopIsShuttingDown() {
        release()
    }

    private func fail(_ reason: CloseReason) {
        let onClose = self.onClose
        release()
        onClose?(reason)
    }

    /// Closes the descriptor and drops the callbacks (and the owners they hold).
    private func release() {
        guard state != .closed else { return }
        state = .closed
        loop.deregister(fd)
        Glibc.close(fd)
        output.removeAll()
        onConnect = nil
        onRead = nil
        onClose = nil
    }
}
