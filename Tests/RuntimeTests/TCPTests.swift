import ConsensusCore
import Glibc
@testable import Runtime
import Testing

@Suite struct TCPTests {
    @Test func addressesParseAndPrint() {
        #expect(SocketAddress(parsing: "127.0.0.1:7001") == SocketAddress.loopback(port: 7001))
        #expect(SocketAddress(parsing: "10.1.2.3:80")?.description == "10.1.2.3:80")
        #expect(SocketAddress(parsing: "localhost:80") == nil)
        #expect(SocketAddress(parsing: "127.0.0.1") == nil)
        #expect(SocketAddress(parsing: "127.0.0.1:70000") == nil)
    }

    /// Port 0 binds a kernel-chosen port; bytes cross both ways; the server's close reaches the
    /// client as the end of the stream; closing releases every descriptor the loop watched.
    @Test func aConnectionCarriesBytesBothWaysAndReportsThePeersClose() async throws {
        try await withEventLoop { loop in
            let serverGot = Recorder<[UInt8]>()
            let clientGot = Recorder<[UInt8]>()
            let clientClosed = Recorder<TCPConnection.CloseReason>()
            let port: UInt16 = try await loop.submit {
                let listener = try! TCPListener(loop: loop, address: .loopback(port: 0), connectionOutputLimit: 1 << 16)
                listener.onAccept = { server in
                    server.onRead = { bytes in
                        serverGot.append(Array(bytes))
                        _ = server.write(Array("pong".utf8))
                        listener.close()
                        // Closed after this turn's flush, so the reply leaves first.
                        loop.schedule(after: .milliseconds(10)) { server.close() }
                    }
                }
                let client = try! TCPConnection.connect(to: listener.address, on: loop, outputLimit: 1 << 16)
                client.onConnect = { _ = client.write(Array("ping".utf8)) }
                client.onRead = { clientGot.append(Array($0)) }
                client.onClose = { clientClosed.append($0) }
                return listener.address.port
            }
            #expect(port != 0)
            #expect(await eventually { clientClosed.values.count == 1 })
            #expect(serverGot.values.flatMap { $0 } == Array("ping".utf8))
            #expect(clientGot.values.flatMap { $0 } == Array("pong".utf8))
            #expect(clientClosed.values == [.endOfStream])
            #expect(try await loop.submit { loop.registeredCount } == 0)
        }
    }

    /// A server's last reply (after `QUIT`, a protocol error) leaves before the connection closes.
    @Test func closeAfterFlushSendsWhatIsQueuedThenCloses() async throws {
        try await withEventLoop { loop in
            let clientGot = Recorder<[UInt8]>()
            let clientClosed = Recorder<TCPConnection.CloseReason>()
            try await loop.submit {
                let listener = try! TCPListener(loop: loop, address: .loopback(port: 0), connectionOutputLimit: 1 << 20)
                listener.onAccept = { server in
                    _ = server.write([UInt8](repeating: 1, count: 300 << 10))
                    server.closeAfterFlush()
                    listener.close()
                }
                let client = try! TCPConnection.connect(to: listener.address, on: loop, outputLimit: 1 << 16)
                client.onRead = { clientGot.append(Array($0)) }
                client.onClose = { clientClosed.append($0) }
            }
            #expect(await eventually { clientClosed.values.count == 1 })
            #expect(clientGot.values.map(\.count).reduce(0, +) == 300 << 10)
            #expect(clientClosed.values == [.endOfStream])
            #expect(try await loop.submit { loop.registeredCount } == 0)
        }
    }

    @Test func aRefusedConnectIsReportedAsAnErrorValue() async throws {
        let unused = try RawListener()
        let port = unused.port
        _ = consume unused
        try await withEventLoop { loop in
            let outcome = Recorder<String>()
            try await loop.submit {
                do {
                    let client = try TCPConnection.connect(to: .loopback(port: port), on: loop, outputLimit: 1024)
                    client.onConnect = { outcome.append("connected") }
                    client.onClose = { outcome.append("\($0)") }
                } catch {
                    outcome.append("\(error)")
                }
            }
            #expect(await eventually { !outcome.values.isEmpty })
            #expect(outcome.values.first?.contains("Connection refused (errno \(ECONNREFUSED))") == true)
        }
    }

    /// A peer that never reads: the kernel's buffers fill, then the queue up to its bound, then
    /// writes are refused; the queue never holds more than the bound.
    @Test func theOutputQueueRefusesWritesPastItsBound() async throws {
        let listener = try RawListener()
        try await withEventLoop { loop in
            let limit = 256 << 10
            let refusedAt = Recorder<Int>()
            let client = try await loop.submit { try! TCPConnection.connect(to: .loopback(port: listener.port), on: loop, outputLimit: limit) }
            let stalled = try RawPeer(acceptingFrom: listener)
            try await loop.submit {
                let chunk = [UInt8](repeating: 7, count: 32 << 10)
                func writeMore() {
                    switch client.write(chunk) {
                    case .queued: loop.schedule(after: .microseconds(200), writeMore)
                    case .queueFull: refusedAt.append(client.queuedBytes)
                    case .closed: refusedAt.append(-1)
                    }
                }
                writeMore()
            }
            #expect(await eventually { !refusedAt.values.isEmpty })
            let queued = try #require(refusedAt.values.first)
            #expect(queued > limit - (32 << 10) && queued <= limit)
            try await loop.submit { client.close() }
            _ = stalled
        }
    }

    /// A write to a socket whose sending side is shut raises SIGPIPE unless sent with MSG_NOSIGNAL;
    /// here it must come back as EPIPE and close the connection, and the process lives on.
    @Test func aBrokenPipeIsAnErrorNotASignal() async throws {
        let listener = try RawListener()
        try await withEventLoop { loop in
            let closed = Recorder<TCPConnection.CloseReason>()
            let client = try await loop.submit { try! TCPConnection.connect(to: .loopback(port: listener.port), on: loop, outputLimit: 1024) }
            let peer = try RawPeer(acceptingFrom: listener)
            #expect(try await eventually { try await loop.submit { client.state == .open } })
            try await loop.submit {
                client.onClose = { closed.append($0) }
                shutdown(client.fd, Int32(SHUT_WR))
                _ = client.write([1, 2, 3])
            }
            #expect(await eventually { !closed.values.isEmpty })
            #expect(closed.values == [.failed(SystemError("send to \(client.peer)", errno: EPIPE))])
            _ = peer
        }
    }
}
