import ConsensusCore
import Foundation
import Glibc
@testable import Jepsen
import Runtime
import Simulator
import Testing

/// The peer proxy between two "members" on loopback, without etcd: a client playing member n1
/// talks through n2's proxy port to an echo server playing n2's peer port. The proxy names the
/// sender from the request head, delays each direction by its link's latency, stalls a cut
/// direction and delivers what it held at the heal.
@Suite struct PeerProxyTests {
    /// A one-connection echo server on a free loopback port; its thread ends with the connection.
    final class Echo: @unchecked Sendable {
        let port: UInt16
        private let listener: Int32

        init() throws {
            port = try LoopbackPorts.free(1)[0]
            listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            _ = SocketAddress.loopback(port: port).withSocketAddress { bind(listener, $0, $1) }
            listen(listener, 4)
            let fd = listener
            Thread.detachNewThread {
                let connection = accept(fd, nil, nil)
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = read(connection, &buffer, buffer.count)
                    guard count > 0 else { break }
                    _ = buffer.withUnsafeBytes { send(connection, $0.baseAddress, count, Int32(MSG_NOSIGNAL)) }
                }
                close(connection)
            }
        }

        deinit { close(listener) }
    }

    /// Sends `text` and waits up to `limit` for as many bytes back; the seconds it took, nil if
    /// they did not all come.
    static func roundTrip(_ stream: TCPStream, _ text: String, limit: TimeInterval) throws -> Double? {
        let start = Date()
        try stream.write(Array(text.utf8))
        var received = 0, buffer = [UInt8](repeating: 0, count: 4096)
        while received < text.utf8.count {
            guard Date().timeIntervalSince(start) < limit, let count = try? stream.read(into: &buffer), count > 0 else { return nil }
            received += count
        }
        return Date().timeIntervalSince(start)
    }

    @Test func latencyDelaysACutStallsAndTheHealDelivers() throws {
        let echo = try Echo()
        let ports = try LoopbackPorts.free(2)
        // n2's proxy forwards to the echo server; n1 is named by its proxy port in the head.
        let proxy = try PeerProxy(ports: ports, targets: [.loopback(port: 1), .loopback(port: echo.port)],
                                  identify: { EtcdMembers.sender(head: $0, proxy: ports) })
        defer { proxy.stop() }
        let latency: [[LatencyDistribution]] = [[.fixed(.zero), .fixed(.milliseconds(60))], [.fixed(.zero), .fixed(.zero)]]
        proxy.setLinks(reachable: [[true, true], [true, true]], latency: latency)
        let stream = try TCPStream(connectingTo: proxy.addresses[1], timeout: .milliseconds(300))
        let head = "POST /raft HTTP/1.1\r\nX-PeerURLs: http://127.0.0.1:\(ports[0])\r\n\r\n"
        let first = try #require(try Self.roundTrip(stream, head, limit: 2), "the head reaches n2 and comes back")
        #expect(first >= 0.06, "n1 → n2 takes the link's 60 ms (took \(first) s)")
        proxy.setLinks(reachable: [[true, false], [true, true]], latency: latency)
        #expect(try Self.roundTrip(stream, "held", limit: 0.4) == nil, "n1 -/-> n2: the bytes stall in the proxy")
        proxy.setLinks(reachable: [[true, true], [true, true]], latency: latency)
        var buffer = [UInt8](repeating: 0, count: 16), received: [UInt8] = []
        let deadline = Date().addingTimeInterval(2)
        while received.count < 4, Date() < deadline { if let count = try? stream.read(into: &buffer), count > 0 { received += buffer[..<count] } }
        #expect(String(decoding: received, as: UTF8.self) == "held", "the heal delivers what was held, in order")
    }

    /// A connection that opened with an anonymous request (etcd's version probe) and then, kept
    /// alive, carries a member's raft request is cut like any of that member's: the proxy keeps
    /// reading until the sender is named.
    @Test func aKeptAliveConnectionIsNamedByALaterRequest() throws {
        let echo = try Echo()
        let ports = try LoopbackPorts.free(2)
        let proxy = try PeerProxy(ports: ports, targets: [.loopback(port: 1), .loopback(port: echo.port)],
                                  identify: { EtcdMembers.sender(head: $0, proxy: ports) })
        defer { proxy.stop() }
        let stream = try TCPStream(connectingTo: proxy.addresses[1], timeout: .milliseconds(300))
        let probe = "GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + String(repeating: "x", count: 20_000)
        #expect(try Self.roundTrip(stream, probe, limit: 2) != nil, "the probe flows: nobody is named yet")
        let head = "POST /raft HTTP/1.1\r\nX-PeerURLs: http://127.0.0.1:\(ports[0])\r\n\r\n"
        #expect(try Self.roundTrip(stream, head, limit: 2) != nil)
        proxy.setLinks(reachable: [[true, false], [true, true]], latency: [[LatencyDistribution]](repeating: [.fixed(.zero), .fixed(.zero)], count: 2))
        #expect(try Self.roundTrip(stream, "held", limit: 0.4) == nil, "n1 -/-> n2: the kept-alive connection is n1's now")
    }
}
